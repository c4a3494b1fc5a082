"""Files the tftasks tests write."""


def write(path, text):
    """Writes `text` (UTF-8) to `path`; returns it as a str."""
    path.write_text(text, encoding="utf-8")
    return str(path)
