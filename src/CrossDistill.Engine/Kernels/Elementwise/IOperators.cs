using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// An elementwise function with a scalar body and Vector256/Vector512 bodies, as in
/// System.Numerics.Tensors' operator structs. Structs may carry parameters (a slope, a bound).
/// </summary>
public interface IUnaryOperator
{
    float Invoke(float x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>A two-input elementwise function with scalar and vector bodies.</summary>
public interface IBinaryOperator
{
    float Invoke(float x, float y);
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}
