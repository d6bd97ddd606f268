"""The notifier: tells camera owners about motion and silent cameras, by e-mail, signed
webhook and push services (Apprise). This package holds the delivery channels; each
renders one `notifier.message.Alert`."""
