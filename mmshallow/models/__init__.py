from .backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .layers import reparameterize  # noqa: F401  (mmshallow.models.reparameterize)
from .necks import *  # noqa: F401,F403
