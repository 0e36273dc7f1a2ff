"""pointhmr.body"""
