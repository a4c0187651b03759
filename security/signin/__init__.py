"""Sign-in: the pipeline, the pending pre-MFA state, the django-axes glue and the sign-in pages."""
