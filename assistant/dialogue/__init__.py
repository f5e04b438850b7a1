"""The dialogue, written once: the steps that answer a turn (``matter``, ``preservice``), the conversation's memory
(``state``), every text (``replies.yml``), which step answers which intent (``rules``, read from the Rasa project),
how a step is run (``context.run_step``) and the turn without Rasa (``degraded``)."""
