"""Datasets: preparation of image folders (`solo-ext data digits|fashion-mnist|tiny-imagenet|cub200`) and
the training datasets the launchers read beyond solo-learn's own (ViC-MAE's frame pairs). No solo-learn."""
