from . import test_base_models
from . import test_foundation
from . import test_rfm
from . import test_tours
