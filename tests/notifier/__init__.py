"""Tests of the notifier: the alert, e-mail, push services and webhooks."""
