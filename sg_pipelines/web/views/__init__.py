"""Server-rendered pages: the plan view and the pages around a launch."""
