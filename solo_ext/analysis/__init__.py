"""Qualitative analysis of ViT representations (pure torch, no solo-learn): the figures of MAGMA section 5.4
and of MAE/ColorMAE, used by ``solo-ext analyze``.

- ``metrics``: cluster quality of features (Davies-Bouldin index, logistic-regression probe, PaCMAP);
- ``attention``: queries/keys of timm-style ViT blocks, key-PCA maps, [CLS] attention maps;
- ``reconstructions``: MAE's reconstruction and mask images;
- ``figures``: the PNG writers.
"""

from solo_ext.analysis.attention import (
    QueryKeyCapture,
    attention_weights,
    capture_queries_keys,
    cls_attention_maps,
    key_component_maps,
    leading_component,
)
from solo_ext.analysis.figures import (
    write_heatmaps,
    write_masks,
    write_pacmap,
    write_reconstructions,
)
from solo_ext.analysis.metrics import davies_bouldin_index, linear_probe_accuracy, pacmap_embedding
from solo_ext.analysis.reconstructions import pixel_mask, reconstruct_images, to_display

__all__ = [
    "QueryKeyCapture",
    "attention_weights",
    "capture_queries_keys",
    "cls_attention_maps",
    "davies_bouldin_index",
    "key_component_maps",
    "leading_component",
    "linear_probe_accuracy",
    "pacmap_embedding",
    "pixel_mask",
    "reconstruct_images",
    "to_display",
    "write_heatmaps",
    "write_masks",
    "write_pacmap",
    "write_reconstructions",
]
