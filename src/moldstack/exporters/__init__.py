"""Views of a built model, one module per format: STEP, glTF/STL, GDSII with its layer map, section figures.

Each exporter reads a :class:`~moldstack.geometry.model.Model` and writes one file atomically
(:func:`moldstack.output.atomic_path`). None of them knows the spec.
"""
