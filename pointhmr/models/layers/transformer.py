"""Pre-LayerNorm transformer encoder layer and stack (the building blocks of PointHMR's mesh regressor)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def additive_attention_mask(mask: Optional[Tensor], dtype: torch.dtype = torch.float32) -> Optional[Tensor]:
    """(L, L) bool mask (True = blocked) -> additive float mask (0 allowed, -inf blocked) for
    :func:`torch.nn.functional.scaled_dot_product_attention`; float masks are returned (cast to ``dtype``).

    Raises:
        ValueError: a row blocks every key (its softmax would be NaN).
    """
    if mask is None:
        return None
    if mask.dtype != torch.bool:
        return mask.to(dtype)
    if mask.all(dim=-1).any():
        raise ValueError('additive_attention_mask: a query row blocks every key; every token must see at least one '
                         'token (itself)')
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(mask, float('-inf'))


class PreNormTransformerEncoderLayer(nn.Module):
    """Pre-LN encoder layer: ``x + Drop(MHA(LN1(x)))`` then ``x + Drop(Linear2(Drop(ReLU(Linear1(LN2(x))))))``.

    Holds a :class:`torch.nn.MultiheadAttention` (packed q/k/v projection) so parameter names map 1:1 to the official
    checkpoint (``self_attn.in_proj_weight``, ``self_attn.out_proj``, ``linear1``, ``linear2``, ``norm1``,
    ``norm2``), but computes the attention with :func:`torch.nn.functional.scaled_dot_product_attention` and an
    additive float mask (the same maths; faster than the module's boolean-mask path in training and inference).
    Tensors are batch-first ``(B, L, C)``.

    Args:
        embed_dims: token width ``d``.
        num_heads: attention heads (``d`` must be divisible by it).
        feedforward_channels: hidden width of the FFN.
        dropout: attention-probability dropout and the three residual-path dropouts.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int, dropout: float = 0.1) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'PreNormTransformerEncoderLayer: embed_dims ({embed_dims}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(embed_dims, feedforward_channels)
        self.linear2 = nn.Linear(feedforward_channels, embed_dims)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = nn.ReLU(inplace=True)

    def attention(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """Multi-head self-attention of ``x`` (B, L, C) with ``self_attn``'s weights; ``attn_mask`` (L, L) additive
        float (or bool, True = blocked, converted on every call: pass float masks built once)."""
        attn = self.self_attn
        batch, length, channels = x.shape
        heads = attn.num_heads
        qkv = F.linear(x, attn.in_proj_weight, attn.in_proj_bias)
        q, k, v = qkv.view(batch, length, 3, heads, channels // heads).permute(2, 0, 3, 1, 4).unbind(0)
        if attn_mask is not None and attn_mask.dtype != q.dtype:
            attn_mask = additive_attention_mask(attn_mask, q.dtype)
        out = F.scaled_dot_product_attention(q,
                                             k,
                                             v,
                                             attn_mask=attn_mask,
                                             dropout_p=attn.dropout if self.training else 0.)
        return attn.out_proj(out.transpose(1, 2).reshape(batch, length, channels))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """x: (B, L, C); attn_mask: (L, L) additive float mask (0 = allowed, -inf = blocked) or bool (True =
        blocked, PyTorch semantics)."""
        x = x + self.dropout1(self.attention(self.norm1(x), attn_mask))
        y = self.linear2(self.dropout(self.activation(self.linear1(self.norm2(x)))))
        return x + self.dropout2(y)


class TransformerEncoderStack(nn.Module):
    """``num_layers`` pre-LN layers (``layers.{i}``) with an optional final LayerNorm (``norm``).

    Each layer is constructed (and initialised) on its own. The official code deep-copies one template layer, so its
    layers start from identical weights; independent initialisation is a deliberate, harmless difference.
    """

    def __init__(self,
                 num_layers: int,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 dropout: float = 0.1,
                 final_norm: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'TransformerEncoderStack: num_layers must be >= 1, got {num_layers}')
        self.layers = nn.ModuleList([
            PreNormTransformerEncoderLayer(embed_dims, num_heads, feedforward_channels, dropout)
            for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims) if final_norm else None

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, attn_mask=attn_mask)
        return x if self.norm is None else self.norm(x)
