"""Dataset tools: synthesize, import from coco128, validate, hash like DVC."""
