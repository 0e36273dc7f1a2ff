"""pointhmr.visualization"""
