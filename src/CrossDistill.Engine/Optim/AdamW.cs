using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Optim;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>
    /// PyTorch 1.13's AdamW step for one element, in its order: p ·= 1 − lr·wd;
    /// m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²; (AMSGrad: v̂ = max(v̂, v)); p += −(lr / (1 − β₁ᵗ))·m /
    /// (√v / √(1 − β₂ᵗ) + ε).
    /// </summary>
    public unsafe struct AdamWUpdate : IFusedUpdate
    {
        public float* Param, Grad, ExpAvg, ExpAvgSq, MaxExpAvgSq;
        public float Decay, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, Eps, NegStepSize;
        public bool Maximize;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update(int i)
        {
            float g = Maximize ? -Grad[i] : Grad[i];
            float p = Param[i] * Decay;
            float m = MathF.FusedMultiplyAdd(g, OneMinusBeta1, ExpAvg[i] * Beta1);
            float v = ExpAvgSq[i] * Beta2 + OneMinusBeta2 * g * g;
            ExpAvg[i] = m;
            ExpAvgSq[i] = v;
            if (MaxExpAvgSq != null)
            {
                v = MathF.Max(MaxExpAvgSq[i], v);
                MaxExpAvgSq[i] = v;
            }
            float denom = MathF.Sqrt(v) / BiasCorrection2Sqrt + Eps;
            Param[i] = p + NegStepSize * m / denom;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update256(int i)
        {
            var g = Vector256.Load(Grad + i);
            if (Maximize) g = -g;
            var p = Vector256.Load(Param + i) * Vector256.Create(Decay);
            var m = Vector256.FusedMultiplyAdd(g, Vector256.Create(OneMinusBeta1), Vector256.Load(ExpAvg + i) * Vector256.Create(Beta1));
            var v = Vector256.Load(ExpAvgSq + i) * Vector256.Create(Beta2) + Vector256.Create(OneMinusBeta2) * g * g;
            Vector256.Store(m, ExpAvg + i);
            Vector256.Store(v, ExpAvgSq + i);
            if (MaxExpAvgSq != null)
            {
                v = Vector256.Max(Vector256.Load(MaxExpAvgSq + i), v);
                Vector256.Store(v, MaxExpAvgSq + i);
            }
            var denom = Vector256.Sqrt(v) / Vector256.Create(BiasCorrection2Sqrt) + Vector256.Create(Eps);
            Vector256.Store(p + Vector256.Create(NegStepSize) * m / denom, Param + i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Update512(int i)
        {
            var g = Vector512.Load(Grad + i);
            if (Maximize) g = -g;
            var p = Vector512.Load(Param + i) * Vector512.Create(Decay);
            var m = Vector512.FusedMultiplyAdd(g, Vector512.Create(OneMinusBeta1), Vector512.Load(ExpAvg + i) * Vector512.Create(Beta1));
            var v = Vector512.Load(ExpAvgSq + i) * Vector512.Create(Beta2) + Vector512.Create(OneMinusBeta2) * g * g;
            Vector512.Store(m, ExpAvg + i);
            Vector512.Store(v, ExpAvgSq + i);
            if (MaxExpAvgSq != null)
            {
                v = Vector512.Max(Vector512.Load(MaxExpAvgSq + i), v);
                Vector512.Store(v, MaxExpAvgSq + i);
            }
            var denom = Vector512.Sqrt(v) / Vector512.Create(BiasCorrection2Sqrt) + Vector512.Create(Eps);
            Vector512.Store(p + Vector512.Create(NegStepSize) * m / denom, Param + i);
        }
    }
}

namespace CrossDistill.Engine.Optim
{
    /// <summary>
    /// Adam with decoupled weight decay, as torch.optim.AdamW in PyTorch 1.13 (bias-corrected
    /// moments, optional AMSGrad). Options: "lr", "beta1", "beta2", "eps", "weight_decay",
    /// "amsgrad", "maximize". State: a step count and "exp_avg", "exp_avg_sq" (and
    /// "max_exp_avg_sq" with AMSGrad).
    /// </summary>
    public sealed class AdamW : Optimizer
    {
        public const string ExpAvg = "exp_avg", ExpAvgSq = "exp_avg_sq", MaxExpAvgSq = "max_exp_avg_sq";
        private static readonly string[] Buffers = { ExpAvg, ExpAvgSq, MaxExpAvgSq };

        public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
            : this(SingleGroup(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

        public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
            : base(groups, new Dictionary<string, double>
            {
                ["lr"] = lr,
                ["beta1"] = beta1,
                ["beta2"] = beta2,
                ["eps"] = eps,
                ["weight_decay"] = weightDecay,
                ["amsgrad"] = amsgrad ? 1 : 0,
                ["maximize"] = maximize ? 1 : 0,
            }) { }

        protected override IReadOnlyCollection<string> BufferNames => Buffers;

        protected override void ValidateGroup(ParamGroup group, int index)
        {
            base.ValidateGroup(group, index);
            Require(group["eps"] >= 0, index, "eps", group["eps"], "must be ≥ 0");
            Require(group["beta1"] >= 0 && group["beta1"] < 1, index, "beta1", group["beta1"], "must be in [0, 1)");
            Require(group["beta2"] >= 0 && group["beta2"] < 1, index, "beta2", group["beta2"], "must be in [0, 1)");
        }

        public override unsafe void Step()
        {
            foreach (var group in ParamGroups)
            {
                double lr = group.Lr, beta1 = group["beta1"], beta2 = group["beta2"];
                bool amsgrad = group["amsgrad"] != 0;
                var kernel = new AdamWUpdate
                {
                    Decay = (float)(1 - lr * group.WeightDecay),
                    Beta1 = (float)beta1,
                    OneMinusBeta1 = (float)(1 - beta1),
                    Beta2 = (float)beta2,
                    OneMinusBeta2 = (float)(1 - beta2),
                    Eps = (float)group["eps"],
                    Maximize = group["maximize"] != 0,
                };
                foreach (var p in group.Parameters)
                {
                    if (p.Grad is null) continue;
                    using var grad = GradInParamLayout(p, p.Grad);
                    var state = StateOf(p);
                    long step = ++state.Step;
                    // The bias corrections depend on this parameter's own step count, in double as in Python.
                    double biasCorrection1 = 1 - Math.Pow(beta1, step);
                    double biasCorrection2 = 1 - Math.Pow(beta2, step);
                    kernel.NegStepSize = (float)-(lr / biasCorrection1);
                    kernel.BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
                    kernel.Param = p.DataPtr;
                    kernel.Grad = grad.DataPtr;
                    kernel.ExpAvg = Buffer(state, p, ExpAvg).DataPtr;
                    kernel.ExpAvgSq = Buffer(state, p, ExpAvgSq).DataPtr;
                    kernel.MaxExpAvgSq = amsgrad ? Buffer(state, p, MaxExpAvgSq).DataPtr : null;
                    FusedUpdate.Run(kernel, p.Numel);
                }
            }
        }

        private static Tensor Buffer(ParamState state, Tensor p, string name)
        {
            if (!state.Buffers.TryGetValue(name, out var buffer)) state.Buffers[name] = buffer = NewBuffer(p);
            return buffer;
        }
    }
}
