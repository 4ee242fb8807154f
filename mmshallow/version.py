__version__ = '0.1.0'

#: What ``import mmshallow`` needs, as ``(lowest supported, newest tested)`` releases. The lowest
#: is what CI's low-end leg installs (``requirements/lowest.txt``), the newest what its main leg
#: pins (``requirements/build.txt``, ``stack.txt``, ``tools/install.sh``); tests tie the files to
#: this table. Below the lowest, ``import mmshallow`` raises; above the newest it only warns.
#: ``setup.py`` declares torch and mmengine from the lowest release up, without an upper cap.
#: mmcv (or mmcv-lite: ``import mmshallow`` uses no compiled op) is checked here, not declared:
#: pip cannot tell mmcv from mmcv-lite and would replace a user's prebuilt mmcv with a source
#: build; ``requirements/mminstall.txt`` states its range, as OpenMMLab's codebases do.
DEPENDENCIES = {
    'torch': ('2.1.0', '2.14.1'),
    'mmengine': ('0.10.0', '0.10.7'),
    'mmcv': ('2.1.0', '2.1.0'),
}

#: mmcv below this is refused by mmdet 3.3 (its own upper bound); mmshallow itself only warns.
MMCV_UPPER_BOUND = '2.2.0'
