using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Optim;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>
    /// PyTorch 1.13's SGD step for one element, in its order: d = g + wd·p; buf = d on the first
    /// step, else momentum·buf + (1 − dampening)·d; d = d + momentum·buf (Nesterov) or buf; p −= lr·d.
    /// </summary>
    public unsafe struct SgdUpdate : IFusedUpdate
    {
        public float* Param, Grad, Buffer;
        public float Lr, WeightDecay, Momentum, OneMinusDampening;
        public bool Nesterov, FirstStep, Maximize;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update(int i)
        {
            float d = Maximize ? -Grad[i] : Grad[i];
            float p = Param[i];
            if (WeightDecay != 0f) d = MathF.FusedMultiplyAdd(p, WeightDecay, d);
            if (Buffer != null)
            {
                float b = FirstStep ? d : MathF.FusedMultiplyAdd(d, OneMinusDampening, Buffer[i] * Momentum);
                Buffer[i] = b;
                d = Nesterov ? MathF.FusedMultiplyAdd(b, Momentum, d) : b;
            }
            Param[i] = MathF.FusedMultiplyAdd(d, -Lr, p);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update256(int i)
        {
            var d = Vector256.Load(Grad + i);
            if (Maximize) d = -d;
            var p = Vector256.Load(Param + i);
            if (WeightDecay != 0f) d = Vector256.FusedMultiplyAdd(p, Vector256.Create(WeightDecay), d);
            if (Buffer != null)
            {
                var momentum = Vector256.Create(Momentum);
                var b = FirstStep ? d : Vector256.FusedMultiplyAdd(d, Vector256.Create(OneMinusDampening), Vector256.Load(Buffer + i) * momentum);
                Vector256.Store(b, Buffer + i);
                d = Nesterov ? Vector256.FusedMultiplyAdd(b, momentum, d) : b;
            }
            Vector256.Store(Vector256.FusedMultiplyAdd(d, Vector256.Create(-Lr), p), Param + i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update512(int i)
        {
            var d = Vector512.Load(Grad + i);
            if (Maximize) d = -d;
            var p = Vector512.Load(Param + i);
            if (WeightDecay != 0f) d = Vector512.FusedMultiplyAdd(p, Vector512.Create(WeightDecay), d);
            if (Buffer != null)
            {
                var momentum = Vector512.Create(Momentum);
                var b = FirstStep ? d : Vector512.FusedMultiplyAdd(d, Vector512.Create(OneMinusDampening), Vector512.Load(Buffer + i) * momentum);
                Vector512.Store(b, Buffer + i);
                d = Nesterov ? Vector512.FusedMultiplyAdd(b, momentum, d) : b;
            }
            Vector512.Store(Vector512.FusedMultiplyAdd(d, Vector512.Create(-Lr), p), Param + i);
        }
    }
}

namespace CrossDistill.Engine.Optim
{
    /// <summary>
    /// Stochastic gradient descent with momentum, dampening, Nesterov momentum and (coupled)
    /// weight decay, as torch.optim.SGD in PyTorch 1.13. Options: "lr", "momentum", "dampening",
    /// "weight_decay", "nesterov", "maximize". State: "momentum_buffer" when momentum ≠ 0.
    /// </summary>
    public sealed class SGD : Optimizer
    {
        public const string MomentumBuffer = "momentum_buffer";
        private static readonly string[] Buffers = { MomentumBuffer };

        public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
            : this(SingleGroup(parameters), lr, momentum, dampening, weightDecay, nesterov, maximize) { }

        public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
            : base(groups, new Dictionary<string, double>
            {
                ["lr"] = lr,
                ["momentum"] = momentum,
                ["dampening"] = dampening,
                ["weight_decay"] = weightDecay,
                ["nesterov"] = nesterov ? 1 : 0,
                ["maximize"] = maximize ? 1 : 0,
            }) { }

        protected override IReadOnlyCollection<string> BufferNames => Buffers;

        protected override void ValidateGroup(ParamGroup group, int index)
        {
            base.ValidateGroup(group, index);
            Require(group["momentum"] >= 0, index, "momentum", group["momentum"], "must be ≥ 0");
            if (group["nesterov"] != 0)
                Require(group["momentum"] > 0 && group["dampening"] == 0, index, "nesterov", group["nesterov"], "Nesterov momentum requires a momentum and zero dampening");
        }

        public override unsafe void Step()
        {
            foreach (var group in ParamGroups)
            {
                float momentum = (float)group["momentum"];
                var kernel = new SgdUpdate
                {
                    Lr = (float)group.Lr,
                    WeightDecay = (float)group.WeightDecay,
                    Momentum = momentum,
                    OneMinusDampening = (float)(1 - group["dampening"]),
                    Nesterov = group["nesterov"] != 0,
                    Maximize = group["maximize"] != 0,
                };
                foreach (var p in group.Parameters)
                {
                    if (p.Grad is null) continue;
                    using var grad = GradInParamLayout(p, p.Grad);
                    kernel.Param = p.DataPtr;
                    kernel.Grad = grad.DataPtr;
                    kernel.Buffer = null;
                    kernel.FirstStep = false;
                    if (group["momentum"] != 0)
                    {
                        var state = StateOf(p);
                        if (!state.Buffers.TryGetValue(MomentumBuffer, out var buffer))
                        {
                            state.Buffers[MomentumBuffer] = buffer = NewBuffer(p);
                            kernel.FirstStep = true;
                        }
                        kernel.Buffer = buffer.DataPtr;
                    }
                    FusedUpdate.Run(kernel, p.Numel);
                }
            }
        }
    }
}
