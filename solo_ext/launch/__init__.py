"""The commands behind `solo-ext`: pretraining and linear/kNN evaluation (through solo-learn), run folders
and checkpoints, analysis figures of a checkpoint, the SMAE critic and ColorMAE pattern banks."""
