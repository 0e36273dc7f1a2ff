"""pointhmr.evaluation"""
