from . import test_base_models
from . import test_customer_360
from . import test_duplicates
from . import test_foundation
from . import test_identity
from . import test_interaction_hooks
from . import test_portal_consent
