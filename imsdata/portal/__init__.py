"""The portal's wire formats (ims-spec.md) and nothing else: sections, reader, writer, errors."""
