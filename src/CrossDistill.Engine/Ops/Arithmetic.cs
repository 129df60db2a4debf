using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct AddOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => x + y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    }

    public struct SubtractOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => x - y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x - y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x - y;
    }

    public struct MultiplyOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => x * y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;
    }

    public struct DivideOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => x / y;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x / y;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x / y;
    }

    /// <summary>a·x + b, the affine map behind scalar add, multiply and negate.</summary>
    public struct AffineOperator : IUnaryOperator
    {
        public float A, B;
        public AffineOperator(float a, float b) { A = a; B = b; }
        public float Invoke(float x) => A * x + B;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(A) * x + Vector256.Create(B);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(A) * x + Vector512.Create(B);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Add(Tensor a, Tensor b)
        {
            var result = Elementwise.Zip(new AddOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return result;
            int[] sa = a.Shape, sb = b.Shape;
            return Autograd.Record(result, "AddBackward", new[] { a, b }, g => new[] { g.SumTo(sa), g.SumTo(sb) });
        }

        public static Tensor Sub(Tensor a, Tensor b)
        {
            var result = Elementwise.Zip(new SubtractOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return result;
            int[] sa = a.Shape, sb = b.Shape;
            return Autograd.Record(result, "SubBackward", new[] { a, b }, g => new[] { g.SumTo(sa), b.RequiresGrad ? Neg(g.SumTo(sb)) : null });
        }

        public static Tensor Mul(Tensor a, Tensor b)
        {
            var result = Elementwise.Zip(new MultiplyOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return result;
            return Autograd.Record(result, "MulBackward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? Mul(g, b).SumTo(a.Shape) : null,
                b.RequiresGrad ? Mul(g, a).SumTo(b.Shape) : null,
            });
        }

        public static Tensor Div(Tensor a, Tensor b)
        {
            var result = Elementwise.Zip(new DivideOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return result;
            return Autograd.Record(result, "DivBackward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? Div(g, b).SumTo(a.Shape) : null,
                b.RequiresGrad ? Neg(Div(Mul(g, result.Detach()), b)).SumTo(b.Shape) : null,
            });
        }

        /// <summary>a·x + b elementwise, for a scalar a and b.</summary>
        public static Tensor Affine(Tensor x, float a, float b)
        {
            var result = Elementwise.Map(new AffineOperator(a, b), x);
            return Autograd.Record(result, "AffineBackward", new[] { x }, g => new[] { Affine(g, a, 0f) });
        }

        public static Tensor Add(Tensor x, float s) => Affine(x, 1f, s);
        public static Tensor Mul(Tensor x, float s) => Affine(x, s, 0f);
        public static Tensor Neg(Tensor x) => Affine(x, -1f, 0f);

        /// <summary>s / x elementwise.</summary>
        public static Tensor Div(float s, Tensor x) => Mul(Reciprocal(x), s);
    }

    public sealed partial class Tensor
    {
        public static Tensor operator +(Tensor a, Tensor b) => Torch.Add(a, b);
        public static Tensor operator -(Tensor a, Tensor b) => Torch.Sub(a, b);
        public static Tensor operator *(Tensor a, Tensor b) => Torch.Mul(a, b);
        public static Tensor operator /(Tensor a, Tensor b) => Torch.Div(a, b);
        public static Tensor operator -(Tensor a) => Torch.Neg(a);
        public static Tensor operator +(Tensor a, float s) => Torch.Add(a, s);
        public static Tensor operator +(float s, Tensor a) => Torch.Add(a, s);
        public static Tensor operator -(Tensor a, float s) => Torch.Add(a, -s);
        public static Tensor operator -(float s, Tensor a) => Torch.Affine(a, -1f, s);
        public static Tensor operator *(Tensor a, float s) => Torch.Mul(a, s);
        public static Tensor operator *(float s, Tensor a) => Torch.Mul(a, s);
        public static Tensor operator /(Tensor a, float s) => Torch.Mul(a, 1f / s);
        public static Tensor operator /(float s, Tensor a) => Torch.Div(s, a);

        /// <summary>this += other (broadcast), unrecorded: for gradients and optimizer state.</summary>
        public Tensor AddInPlace(Tensor other)
        {
            Elementwise.ZipInto(new AddOperator(), this, other, this);
            return this;
        }

        /// <summary>this = a·this + b, unrecorded.</summary>
        public Tensor AffineInPlace(float a, float b)
        {
            Elementwise.MapInto(new AffineOperator(a, b), this, this);
            return this;
        }

        public Tensor MulInPlace(float s) => AffineInPlace(s, 0f);

        public Tensor FillInPlace(float value)
        {
            if (IsDense) Span.Fill(value);
            else
            {
                using var full = Torch.Full(Array.Empty<int>(), value);
                CopyFrom(full);
            }
            return this;
        }

        public Tensor ZeroInPlace() => FillInPlace(0f);
    }
}
