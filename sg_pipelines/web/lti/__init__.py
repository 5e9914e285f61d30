"""The LTI 1.3 tool: login initiation, launch validation, who may see what, registrations."""

from sg_pipelines.web.lti.config import LtiSettings, load_lti_settings
from sg_pipelines.web.lti.routes import LTI_ROUTES
from sg_pipelines.web.lti.tool import LtiTool

__all__ = ["LTI_ROUTES", "LtiSettings", "LtiTool", "load_lti_settings"]
