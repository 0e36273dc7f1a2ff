"""pointhmr.apis"""
