from . import test_base_models
from . import test_duplicates
from . import test_foundation
from . import test_identity
