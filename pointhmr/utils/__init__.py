"""pointhmr.utils"""
