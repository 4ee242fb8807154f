from .safe_load import (UnsafeCheckpointError, allow_mmengine_checkpoints,
                        mmengine_safe_globals, refuse_unsafe_checkpoint)

__all__ = ['UnsafeCheckpointError', 'allow_mmengine_checkpoints', 'mmengine_safe_globals',
           'refuse_unsafe_checkpoint']
