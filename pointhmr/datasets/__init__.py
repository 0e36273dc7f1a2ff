"""pointhmr.datasets"""
