using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>How a convolution is computed. <see cref="Auto"/> picks the best path that applies; the others force one (tests).</summary>
    internal enum ConvAlgorithm
    {
        Auto,
        Im2ColGemm,
        Pointwise,
        Depthwise,
    }
}

namespace CrossDistill.Engine
{
    public static unsafe partial class F
    {
        /// <summary>
        /// torch.nn.functional.conv2d: x [N, Cin, H, W] (or unbatched [Cin, H, W]), weight
        /// [Cout, Cin/groups, KH, KW] (PyTorch's OIHW), bias [Cout]; stride, padding and dilation
        /// take one value for both dims or (h, w). Accepts any input layout and returns a
        /// channels-last result (NCHW shape, NHWC strides), as PyTorch does for
        /// memory_format=channels_last; the input gradient is channels-last too.
        /// </summary>
        public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null, int[]? dilation = null, int groups = 1)
        {
            if (x.Rank == 3)
            {
                var batched = x.Unsqueeze(0);
                return Conv2d(batched, weight, bias, stride, padding, dilation, groups).Squeeze(0);
            }
            var geometry = ConvGeometry.Create(x.Shape, weight.Shape, bias?.Shape, stride, padding, dilation, groups);
            return Conv2d(x, weight, bias, geometry, ConvAlgorithm.Auto, ConvGemm.DefaultBandFloats);
        }

        /// <summary>Conv2d with the same stride, padding and dilation along both spatial dims.</summary>
        public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int stride, int padding = 0, int dilation = 1, int groups = 1)
            => Conv2d(x, weight, bias, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

        /// <summary>The recorded convolution through a chosen kernel, with a chosen im2col band size (tests force both).</summary>
        internal static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, ConvAlgorithm algorithm, int bandFloats)
        {
            algorithm = Resolve(g, algorithm);
            Tensor input;
            using (var detached = x.Detach()) input = detached.ContiguousChannelsLast();
            var packedWeight = PackWeight(weight, algorithm);
            var y = Tensor.Empty([g.N, g.Cout, g.OH, g.OW], ShapeUtil.ChannelsLastStrides([g.N, g.Cout, g.OH, g.OW]));
            using (var biasDetached = bias?.Detach())
            using (var biasDense = biasDetached?.Contiguous())
            {
                float* b = biasDense is null ? null : biasDense.DataPtr;
                if (algorithm == ConvAlgorithm.Depthwise) DepthwiseConv.Forward(g, input.DataPtr, packedWeight.DataPtr, b, y.DataPtr);
                else ConvGemm.Forward(g, input.DataPtr, packedWeight.DataPtr, b, y.DataPtr, algorithm == ConvAlgorithm.Pointwise, bandFloats);
            }

            var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
            if (!Autograd.ShouldRecord(inputs))
            {
                input.Dispose();
                packedWeight.Dispose();
                return y;
            }
            return Autograd.Record(y, "ConvolutionBackward", inputs, gradOutput =>
            {
                using var dy = gradOutput.ContiguousChannelsLast();
                Tensor? dx = x.RequiresGrad
                    ? Tensor.Empty((int[])x.Shape.Clone(), ShapeUtil.ChannelsLastStrides(x.Shape), zero: algorithm == ConvAlgorithm.Im2ColGemm)
                    : null;
                using var dwPacked = weight.RequiresGrad ? Tensor.Empty((int[])packedWeight.Shape.Clone()) : null;
                float* pdx = dx is null ? null : dx.DataPtr, pdw = dwPacked is null ? null : dwPacked.DataPtr;
                if (algorithm == ConvAlgorithm.Depthwise)
                {
                    if (pdx is not null) DepthwiseConv.BackwardInput(g, dy.DataPtr, packedWeight.DataPtr, pdx);
                    if (pdw is not null) DepthwiseConv.BackwardWeight(g, input.DataPtr, dy.DataPtr, pdw);
                }
                else ConvGemm.Backward(g, input.DataPtr, packedWeight.DataPtr, dy.DataPtr, pdx, pdw, algorithm == ConvAlgorithm.Pointwise, bandFloats);

                var grads = new Tensor?[inputs.Length];
                grads[0] = dx;
                if (dwPacked is not null) grads[1] = UnpackWeight(dwPacked, algorithm);
                if (bias is not null && bias.RequiresGrad) grads[2] = Torch.Sum(dy, new[] { 0, 2, 3 });
                // A node runs backward once; its saved copies can go now rather than when the scope closes.
                input.Dispose();
                packedWeight.Dispose();
                return grads;
            });
        }

        private static ConvAlgorithm Resolve(in ConvGeometry g, ConvAlgorithm requested) => requested switch
        {
            ConvAlgorithm.Auto => g.IsDepthwise ? ConvAlgorithm.Depthwise : g.IsPointwise ? ConvAlgorithm.Pointwise : ConvAlgorithm.Im2ColGemm,
            ConvAlgorithm.Pointwise when !g.IsPointwise => throw new InvalidOperationException($"Conv2d: the pointwise kernel does not apply to {g}."),
            ConvAlgorithm.Depthwise when !g.IsDepthwise => throw new InvalidOperationException($"Conv2d: the depthwise kernel does not apply to {g}."),
            _ => requested,
        };

        // GEMM paths read the weight as OHWI ([Cout, KH·KW·Cin/groups] rows, the im2col column order);
        // the depthwise kernel reads it tap-major, [KH·KW, C], 16 channels per vector.
        private static readonly int[] ToOhwi = { 0, 2, 3, 1 }, FromOhwi = { 0, 3, 1, 2 };
        private static readonly int[] ToTapMajor = { 2, 3, 1, 0 }, FromTapMajor = { 3, 2, 0, 1 };

        private static Tensor PackWeight(Tensor weight, ConvAlgorithm algorithm)
        {
            using var detached = weight.Detach();
            using var permuted = detached.Permute(algorithm == ConvAlgorithm.Depthwise ? ToTapMajor : ToOhwi);
            return permuted.Contiguous();
        }

        private static Tensor UnpackWeight(Tensor packed, ConvAlgorithm algorithm)
        {
            using var permuted = packed.Permute(algorithm == ConvAlgorithm.Depthwise ? FromTapMajor : FromOhwi);
            return permuted.Contiguous();
        }
    }
}
