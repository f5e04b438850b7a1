"""Rasa as the app runs it: the server process (``supervisor``, ``launcher``), the HTTP client the chat turn uses
(``client``), and the two endpoints Rasa calls back (``nlu_endpoint``: the app's NLU; ``action_server``: the
dialogue steps as custom actions)."""
