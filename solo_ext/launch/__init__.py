"""Launchers (need solo-learn): pretraining, linear and kNN evaluation, shared Trainer plumbing."""
