"""The torch networks behind the deep alpha models; each maps ``(batch, T, F)`` to logits.

* :class:`LSTMNet`: an LSTM over the window; the last hidden state feeds a linear head.
* :class:`DeepLOBNet`: the CNN-LSTM of Zhang, Zohren and Roberts (DeepLOB, 2019), smaller:
  convolutions with stride 2 along the feature axis first join each level's price and size,
  then its ask and bid, then one convolution spans the levels; (k x 1) convolutions mix
  time, an inception module looks at three time scales, and an LSTM reads the result.
  Inputs whose width is not ``4 x levels`` get one (1 x F) convolution instead of the
  level-structured stem.
* :class:`TransformerNet`: a linear embedding, a learned position embedding, a small
  pre-norm Transformer encoder and a head on the last position.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LSTMNet(nn.Module):
    """LSTM classifier over a window of feature vectors."""

    def __init__(
        self, n_features: int, n_classes: int, hidden: int, layers: int, dropout: float
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            n_features,
            hidden,
            num_layers=layers,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)
        logits: Tensor = self.head(out[:, -1])
        return logits


def _conv(
    cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1)
) -> nn.Module:
    # temporal kernels are padded on the past side only, so the output keeps the window's
    # length and each step sees itself and earlier steps
    layers: list[nn.Module] = []
    if kernel[0] > 1:
        layers.append(nn.ZeroPad2d((0, 0, kernel[0] - 1, 0)))
    layers += [
        nn.Conv2d(cin, cout, kernel, stride=stride),
        nn.LeakyReLU(0.01),
        nn.BatchNorm2d(cout),
    ]
    return nn.Sequential(*layers)


class DeepLOBNet(nn.Module):
    """CNN-LSTM on raw book levels (DeepLOB-style)."""

    def __init__(
        self, n_features: int, n_classes: int, filters: int, inception: int, hidden: int
    ) -> None:
        super().__init__()
        f = filters
        if n_features % 4 == 0:
            levels = n_features // 4
            self.stem: nn.Module = nn.Sequential(
                _conv(1, f, (1, 2), (1, 2)),  # price with size
                _conv(f, f, (4, 1)),
                _conv(f, f, (1, 2), (1, 2)),  # ask with bid
                _conv(f, f, (4, 1)),
                _conv(f, f, (1, levels), (1, levels)),  # across levels
                _conv(f, f, (4, 1)),
            )
        else:
            self.stem = nn.Sequential(
                _conv(1, f, (1, n_features), (1, n_features)), _conv(f, f, (4, 1))
            )
        self.branch1 = nn.Sequential(
            _conv(f, inception, (1, 1)), _conv(inception, inception, (3, 1))
        )
        self.branch2 = nn.Sequential(
            _conv(f, inception, (1, 1)), _conv(inception, inception, (5, 1))
        )
        self.branch3 = nn.Sequential(
            nn.MaxPool2d((3, 1), stride=(1, 1), padding=(1, 0)), _conv(f, inception, (1, 1))
        )
        self.lstm = nn.LSTM(3 * inception, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        z = self.stem(x.unsqueeze(1))  # (B, f, T, 1)
        z = torch.cat([self.branch1(z), self.branch2(z), self.branch3(z)], dim=1)
        z = z.squeeze(-1).transpose(1, 2)  # (B, T, 3 inception)
        out, _ = self.lstm(z)
        logits: Tensor = self.head(out[:, -1])
        return logits


class TransformerNet(nn.Module):
    """Small Transformer encoder over the window."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        d_model: int,
        heads: int,
        layers: int,
        dropout: float,
        max_len: int,
    ) -> None:
        super().__init__()
        self.embed = nn.Linear(n_features, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d_model,
            heads,
            dim_feedforward=2 * d_model,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        t = x.shape[1]
        z = self.embed(x) + self.pos[:, -t:]
        z = self.encoder(z)
        logits: Tensor = self.head(self.norm(z[:, -1]))
        return logits


__all__ = ["DeepLOBNet", "LSTMNet", "TransformerNet"]
