"""WeChat: the official account endpoint and runtime (``mp``), message crypto (``crypto``), XML (``xml``), the
customer-service API client (``api``) and rendering of reply parts as WeChat text (``render``)."""
