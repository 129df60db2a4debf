using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>Which relation a comparison tests. Any comparison with NaN is false, as in IEEE and PyTorch.</summary>
    public enum Relation { Greater, GreaterOrEqual, Less, LessOrEqual, Equal }

    /// <summary>1 where x (relation) y holds, else 0. The all-ones lane mask ANDed with 1.0f gives 1.0f.</summary>
    public struct CompareOperator : IBinaryOperator
    {
        public Relation Relation;
        public CompareOperator(Relation relation) => Relation = relation;

        public float Invoke(float x, float y) => Relation switch
        {
            Relation.Greater => x > y,
            Relation.GreaterOrEqual => x >= y,
            Relation.Less => x < y,
            Relation.LessOrEqual => x <= y,
            _ => x == y,
        } ? 1f : 0f;

        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256<float>.One & Relation switch
        {
            Relation.Greater => Vector256.GreaterThan(x, y),
            Relation.GreaterOrEqual => Vector256.GreaterThanOrEqual(x, y),
            Relation.Less => Vector256.LessThan(x, y),
            Relation.LessOrEqual => Vector256.LessThanOrEqual(x, y),
            _ => Vector256.Equals(x, y),
        };

        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512<float>.One & Relation switch
        {
            Relation.Greater => Vector512.GreaterThan(x, y),
            Relation.GreaterOrEqual => Vector512.GreaterThanOrEqual(x, y),
            Relation.Less => Vector512.LessThan(x, y),
            Relation.LessOrEqual => Vector512.LessThanOrEqual(x, y),
            _ => Vector512.Equals(x, y),
        };
    }

    /// <summary>A comparison against a fixed value, so it runs on the unary (parallel, dense) path.</summary>
    public struct CompareScalarOperator : IUnaryOperator
    {
        public CompareOperator Compare;
        public float Value;
        public CompareScalarOperator(Relation relation, float value) { Compare = new CompareOperator(relation); Value = value; }
        public float Invoke(float x) => Compare.Invoke(x, Value);
        public Vector256<float> Invoke(Vector256<float> x) => Compare.Invoke(x, Vector256.Create(Value));
        public Vector512<float> Invoke(Vector512<float> x) => Compare.Invoke(x, Vector512.Create(Value));
    }
}

namespace CrossDistill.Engine
{
    // Comparisons return float 0/1 masks (the engine has no bool dtype) and are never recorded.
    public static partial class Torch
    {
        public static Tensor Gt(Tensor a, Tensor b) => Compare("Gt", Relation.Greater, a, b);
        public static Tensor Ge(Tensor a, Tensor b) => Compare("Ge", Relation.GreaterOrEqual, a, b);
        public static Tensor Lt(Tensor a, Tensor b) => Compare("Lt", Relation.Less, a, b);
        public static Tensor Le(Tensor a, Tensor b) => Compare("Le", Relation.LessOrEqual, a, b);
        public static Tensor Eq(Tensor a, Tensor b) => Compare("Eq", Relation.Equal, a, b);

        private static Tensor Compare(string op, Relation relation, Tensor a, Tensor b)
        {
            OpSupport.CheckBroadcast(op, a, b);
            return Elementwise.Zip(new CompareOperator(relation), a, b);
        }

        public static Tensor Gt(Tensor a, float b) => Elementwise.Map(new CompareScalarOperator(Relation.Greater, b), a);
        public static Tensor Ge(Tensor a, float b) => Elementwise.Map(new CompareScalarOperator(Relation.GreaterOrEqual, b), a);
        public static Tensor Lt(Tensor a, float b) => Elementwise.Map(new CompareScalarOperator(Relation.Less, b), a);
        public static Tensor Le(Tensor a, float b) => Elementwise.Map(new CompareScalarOperator(Relation.LessOrEqual, b), a);
        public static Tensor Eq(Tensor a, float b) => Elementwise.Map(new CompareScalarOperator(Relation.Equal, b), a);
    }

    public sealed partial class Tensor
    {
        public Tensor Gt(Tensor other) => Torch.Gt(this, other);
        public Tensor Ge(Tensor other) => Torch.Ge(this, other);
        public Tensor Lt(Tensor other) => Torch.Lt(this, other);
        public Tensor Le(Tensor other) => Torch.Le(this, other);
        public Tensor Eq(Tensor other) => Torch.Eq(this, other);
        public Tensor Gt(float value) => Torch.Gt(this, value);
        public Tensor Ge(float value) => Torch.Ge(this, value);
        public Tensor Lt(float value) => Torch.Lt(this, value);
        public Tensor Le(float value) => Torch.Le(this, value);
        public Tensor Eq(float value) => Torch.Eq(this, value);
    }
}
