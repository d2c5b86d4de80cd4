"""Import SLO specs written for other tools into this project's spec format.

One module per format (``sloth``, ``openslo``); each reads a file with the spec loader's
position-aware YAML reader and returns the equivalent specs as plain data, or raises
``SpecInvalid`` with every field that has no equivalent, at ``file:line:column``.
``writer`` turns a spec into YAML text that ``validate`` reads back unchanged.
"""
