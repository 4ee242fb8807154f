from .hooks import *  # noqa: F401,F403
from .model_wrappers import CPUDistributedDataParallel, setup_cpu_distributed  # noqa: F401
from .optim_wrappers import CPUAmpOptimWrapper  # noqa: F401
