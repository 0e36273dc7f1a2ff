"""Building blocks: pre-LN transformer encoder, 2-D sine position encoding, residual conv heads (fast eval path)."""
from .position_encoding import SinePositionEncoding2D
from .residual_conv_head import ResidualBasicBlock, build_residual_conv_head, fold_batch_norm, plain_inference
from .transformer import PreNormTransformerEncoderLayer, TransformerEncoderStack, additive_attention_mask

__all__ = [
    'SinePositionEncoding2D', 'ResidualBasicBlock', 'build_residual_conv_head', 'fold_batch_norm', 'plain_inference',
    'PreNormTransformerEncoderLayer', 'TransformerEncoderStack', 'additive_attention_mask'
]
