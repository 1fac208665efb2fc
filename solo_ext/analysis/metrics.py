"""Cluster quality of backbone features (MAGMA section 5.4): Davies-Bouldin index, a logistic-regression
probe and the PaCMAP embedding of the scatter figure.

scikit-learn and pacmap are imported where used (``pip install 'solo-ext[analysis]'``).
"""

import numpy as np
import torch

__all__ = ["davies_bouldin_index", "linear_probe_accuracy", "pacmap_embedding"]

INSTALL_HINT = "pip install 'solo-ext[analysis]'"


def _require(module: str):
    """Imports an optional analysis dependency, or stops with one line saying how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"solo-ext analysis needs {module.split('.')[0]} ({err}): {INSTALL_HINT}"
        ) from None


def _numpy(values, dtype=None) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    return np.asarray(values.detach().cpu() if torch.is_tensor(values) else values, dtype=dtype)


def davies_bouldin_index(features, labels) -> float:
    """Davies-Bouldin index of ``features`` [N, D] clustered by ``labels`` [N] (lower = better separated).

        S_i = mean_{x in i} ||x − c_i||,   M_ij = ||c_i − c_j||,   DBI = mean_i max_{j≠i} (S_i + S_j) / M_ij

    Equal to scikit-learn's ``davies_bouldin_score`` (clusters with coinciding centroids are never each other's
    worst pair; 0 when every cluster is a point or all centroids coincide).
    """
    x = _numpy(features, np.float64)
    classes, y = np.unique(_numpy(labels), return_inverse=True)
    if not 2 <= len(classes) <= len(x) - 1:
        raise ValueError(
            f"the Davies-Bouldin index needs 2 to N-1 clusters; got {len(classes)} for {len(x)} points"
        )
    centroids = np.stack([x[y == c].mean(0) for c in range(len(classes))])  # [K, D]
    spread = np.array(
        [np.linalg.norm(x[y == c] - centroids[c], axis=1).mean() for c in range(len(classes))]
    )  # [K]
    separation = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)  # [K, K]
    if np.allclose(spread, 0) or np.allclose(separation, 0):
        return 0.0
    separation[separation == 0] = np.inf
    ratio = (spread[:, None] + spread[None]) / separation  # [K, K], 0 on the diagonal
    return float(ratio.max(axis=1).mean())


def linear_probe_accuracy(
    train_features, train_labels, test_features, test_labels, seed: int = 0
) -> float:
    """Top-1 accuracy in [0, 1] of a logistic regression fit on standardised train features [N, D]."""
    pipeline = _require("sklearn.pipeline")
    preprocessing = _require("sklearn.preprocessing")
    linear_model = _require("sklearn.linear_model")
    probe = pipeline.make_pipeline(
        preprocessing.StandardScaler(),
        linear_model.LogisticRegression(max_iter=2000, random_state=seed),
    )
    probe.fit(_numpy(train_features), _numpy(train_labels))
    return float(probe.score(_numpy(test_features), _numpy(test_labels)))


def pacmap_embedding(features, seed: int = 0) -> np.ndarray:
    """[N, D] -> [N, 2] PaCMAP embedding (PCA initialisation, fixed seed).

    PaCMAP's 10 near neighbours (plus 20 far pairs) per point need N well above 30, so small N gets N // 4.
    """
    pacmap = _require("pacmap")
    x = _numpy(features, np.float32)
    neighbours = max(1, min(10, len(x) // 4))
    reducer = pacmap.PaCMAP(
        n_components=2, n_neighbors=neighbours, random_state=seed, verbose=False
    )
    return reducer.fit_transform(x, init="pca")
