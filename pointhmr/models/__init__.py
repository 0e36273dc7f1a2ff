"""pointhmr.models"""
