"""Session policy: how long a signed-in session may sit idle, and how long it may live at all."""
