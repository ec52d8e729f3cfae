"""Densify TFLite sparse constants offline, from the flatbuffer's SparsityParameters.

A sparse tensor (schema.fbs `SparsityParameters`) stores only its non-zero
values, in the order of a walk over `traversal_order`: one entry of
`dim_metadata` per traversed dimension (the tensor's own dimensions first, then
one per block dimension named in `block_map`). A DENSE level visits every index
0..dense_size-1; a SPARSE_CSR level visits, for the position reached at the
level above, the indices `array_indices[array_segments[p] : array_segments[p+1]]`.
This mirrors TFLite's own `FormatConverter::SparseToDense`
(tensorflow/lite/kernels/internal/utils/sparsity_format_converter.cc), which the
DENSIFY op runs at model load; the build checks every tensor densified here
against the interpreter's DENSIFY output (`reference.py densify`).

Pure numpy on plain lists: `tflite_reader` hands over the parsed metadata.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import BuildError

DENSE, SPARSE_CSR = 0, 1


@dataclasses.dataclass(frozen=True)
class DimMetadata:
    format: int                      # DENSE or SPARSE_CSR
    dense_size: int                  # DENSE: the level's size
    segments: tuple[int, ...] = ()   # SPARSE_CSR: array_segments
    indices: tuple[int, ...] = ()    # SPARSE_CSR: array_indices


@dataclasses.dataclass(frozen=True)
class Sparsity:
    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dim_metadata: tuple[DimMetadata, ...]

    def describe(self) -> str:
        levels = ", ".join(("dense" if d.format == DENSE else "csr") for d in self.dim_metadata)
        return (f"traversal {list(self.traversal_order)}, blocks {list(self.block_map)}, levels [{levels}]")


def _vector(union) -> tuple[int, ...]:
    """A SparseIndexVector union value (Int32Vector / Uint16Vector / Uint8Vector) as ints."""
    if union is None:
        return ()
    values = getattr(union, "values", None)
    return () if values is None else tuple(int(v) for v in np.asarray(values).reshape(-1))


def from_schema(sparsity) -> Sparsity:
    """The schema_py_generated `SparsityParametersT` of a tensor as a Sparsity."""
    dims = []
    for d in sparsity.dimMetadata or []:
        dims.append(DimMetadata(int(d.format), int(d.denseSize), _vector(d.arraySegments),
                                _vector(d.arrayIndices)))
    order = sparsity.traversalOrder
    blocks = sparsity.blockMap
    return Sparsity(tuple(int(v) for v in (order if order is not None else ())),
                    tuple(int(v) for v in (blocks if blocks is not None else ())), tuple(dims))


def densify(values: np.ndarray, shape: tuple[int, ...], sparsity: Sparsity, *, name: str = "tensor") -> np.ndarray:
    """Scatter the stored values into a dense array of `shape` (zeros elsewhere)."""
    rank = len(shape)
    order, blocks, dims = sparsity.traversal_order, sparsity.block_map, sparsity.dim_metadata
    levels = rank + len(blocks)

    def bad(problem: str) -> BuildError:
        return BuildError(f"sparse tensor {name!r} ({sparsity.describe()}): {problem}",
                          fix="the flatbuffer's sparsity parameters are not understood by "
                              "py/moodcam_tools/convert/sparse.py; compare with TFLite's FormatConverter")

    if len(order) != levels or sorted(order) != list(range(levels)) or len(dims) != levels:
        raise bad(f"needs {levels} traversal levels and dim_metadata entries")
    if any(not 0 <= b < rank for b in blocks):
        raise bad("block_map names a dimension the tensor does not have")
    block_sizes = [dims[rank + i].dense_size for i in range(len(blocks))]

    # Walk level by level, keeping for every partial path its position (the
    # segment index the next CSR level reads) and the indices chosen so far.
    position = np.zeros(1, np.int64)
    chosen: list[np.ndarray] = []
    for level, dim in enumerate(dims):
        if dim.format == DENSE:
            n = dim.dense_size
            if n < 0:
                raise bad(f"level {level} has dense size {n}")
            position = (position[:, None] * n + np.arange(n)).reshape(-1)
            chosen = [np.repeat(c, n) for c in chosen] + [np.tile(np.arange(n), len(chosen[0]) if chosen else 1)]
        elif dim.format == SPARSE_CSR:
            seg = np.asarray(dim.segments, np.int64)
            idx = np.asarray(dim.indices, np.int64)
            highest = int(position.max()) if position.size else -1
            if len(seg) == 0 or highest + 1 >= len(seg):
                raise bad(f"level {level}: {len(seg)} segments for positions up to {highest}")
            starts, ends = seg[position], seg[position + 1]
            counts = ends - starts
            if (counts < 0).any() or (ends > len(idx)).any():
                raise bad(f"level {level}: segments are not increasing within the {len(idx)} indices")
            total = int(counts.sum())
            offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
            position = np.arange(total, dtype=np.int64) + offsets
            chosen = [np.repeat(c, counts) for c in chosen] + [idx[position]]
        else:
            raise bad(f"level {level} has unknown format {dim.format}")

    flat_values = np.asarray(values).reshape(-1)
    count = len(chosen[0]) if chosen else 1
    if flat_values.size != count:
        raise bad(f"{flat_values.size} stored values for {count} positions")
    coords: list[np.ndarray | None] = [None] * rank
    for level in range(rank):
        coords[order[level]] = chosen[level]
    for level in range(rank, levels):
        b = order[level] - rank
        outer = coords[blocks[b]]
        if outer is None:
            raise bad(f"block level {level} refines dimension {blocks[b]}, which no level above visits")
        coords[blocks[b]] = outer * block_sizes[b] + chosen[level]
    placed: list[np.ndarray] = []
    for d, c in enumerate(coords):
        if c is None or (c.size and (c.min() < 0 or c.max() >= shape[d])):
            raise bad(f"indices of dimension {d} fall outside the shape {list(shape)}")
        placed.append(c)
    dense = np.zeros(shape, dtype=flat_values.dtype)
    dense[tuple(placed)] = flat_values
    return dense
