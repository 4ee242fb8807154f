from .safe_load import (CheckpointFileError, UnsafeCheckpointError, allow_mmengine_checkpoints,
                        mmengine_safe_globals, refuse_unsafe_checkpoint)

__all__ = ['CheckpointFileError', 'UnsafeCheckpointError', 'allow_mmengine_checkpoints',
           'mmengine_safe_globals', 'refuse_unsafe_checkpoint']
