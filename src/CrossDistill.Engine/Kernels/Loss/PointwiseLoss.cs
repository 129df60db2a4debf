using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// A loss that is a function of one input element and one target element (MSE, L1, smooth L1,
/// KL divergence), with its partial derivatives; scalar and vector bodies as in the operator structs.
/// </summary>
public interface IPointwiseLoss
{
    float Loss(float x, float y);
    Vector256<float> Loss(Vector256<float> x, Vector256<float> y);
    Vector512<float> Loss(Vector512<float> x, Vector512<float> y);
    float GradX(float x, float y);
    Vector256<float> GradX(Vector256<float> x, Vector256<float> y);
    Vector512<float> GradX(Vector512<float> x, Vector512<float> y);
    float GradY(float x, float y);
    Vector256<float> GradY(Vector256<float> x, Vector256<float> y);
    Vector512<float> GradY(Vector512<float> x, Vector512<float> y);
}

public struct PointwiseLossValue<TLoss> : IBinaryOperator where TLoss : struct, IPointwiseLoss
{
    public TLoss Op;
    public PointwiseLossValue(TLoss op) => Op = op;
    public float Invoke(float x, float y) => Op.Loss(x, y);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Op.Loss(x, y);
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Op.Loss(x, y);
}

/// <summary>scale · ∂loss/∂x.</summary>
public struct PointwiseLossGradX<TLoss> : IBinaryOperator where TLoss : struct, IPointwiseLoss
{
    public TLoss Op;
    public float Scale;
    public PointwiseLossGradX(TLoss op, float scale) { Op = op; Scale = scale; }
    public float Invoke(float x, float y) => Op.GradX(x, y) * Scale;
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Op.GradX(x, y) * Scale;
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Op.GradX(x, y) * Scale;
}

/// <summary>scale · ∂loss/∂y.</summary>
public struct PointwiseLossGradY<TLoss> : IBinaryOperator where TLoss : struct, IPointwiseLoss
{
    public TLoss Op;
    public float Scale;
    public PointwiseLossGradY(TLoss op, float scale) { Op = op; Scale = scale; }
    public float Invoke(float x, float y) => Op.GradY(x, y) * Scale;
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Op.GradY(x, y) * Scale;
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Op.GradY(x, y) * Scale;
}

/// <summary>
/// Runs a pointwise loss with PyTorch's broadcasting and reductions. A reduced loss over two
/// operands of one shape and layout is summed straight from them without materialising the
/// per-element values; the backward is one elementwise pass per input that needs a gradient.
/// </summary>
internal static unsafe class PointwiseLoss
{
    public static Tensor Apply<TLoss>(TLoss op, Tensor input, Tensor target, LossReduction reduction, string name) where TLoss : struct, IPointwiseLoss
    {
        if (input.DType != DType.Float32 || target.DType != DType.Float32)
            throw new ArgumentException($"{name}: input and target must be float32, got {input.DType} and {target.DType}.");
        int[] shape;
        try { shape = ShapeUtil.Broadcast(input.Shape, target.Shape); }
        catch (ArgumentException e) { throw new ArgumentException($"{name}: input {ShapeUtil.Format(input.Shape)} and target {ShapeUtil.Format(target.Shape)} do not broadcast.", nameof(target), e); }

        var value = new PointwiseLossValue<TLoss>(op);
        Tensor result;
        double divisor = 1;
        if (reduction == LossReduction.None) result = Elementwise.Zip(value, input, target);
        else
        {
            double total;
            if (OperandLayout.SameDenseLayout(input, target)) total = LossReductions.Sum(value, input.DataPtr, target.DataPtr, input.Numel);
            else
            {
                using var map = Elementwise.Zip(value, input, target);
                total = LossReductions.Sum(map.DataPtr, map.Numel);
            }
            divisor = reduction switch
            {
                LossReduction.Mean => ShapeUtil.Numel(shape),
                LossReduction.BatchMean => input.Rank == 0 ? 1 : input.Shape[0],
                _ => 1,
            };
            result = Torch.Scalar((float)(total / divisor));
        }
        if (!Autograd.ShouldRecord(input, target)) return result;

        return Autograd.Record(result, name + "Backward", new[] { input, target }, g =>
        {
            Tensor? gx = null, gy = null;
            float scale = reduction == LossReduction.None ? 1f : (float)(g.Item() / divisor);
            if (input.RequiresGrad) gx = Finish(Elementwise.Zip(new PointwiseLossGradX<TLoss>(op, scale), input, target), g, reduction, input.Shape);
            if (target.RequiresGrad) gy = Finish(Elementwise.Zip(new PointwiseLossGradY<TLoss>(op, scale), input, target), g, reduction, target.Shape);
            return new[] { gx, gy };
        });
    }

    /// <summary>Applies a per-element upstream gradient and undoes broadcasting.</summary>
    private static Tensor Finish(Tensor grad, Tensor upstream, LossReduction reduction, int[] shape)
    {
        if (reduction == LossReduction.None) Elementwise.ZipInto(new MultiplyOperator(), grad, upstream, grad);
        var reduced = grad.SumTo(shape);
        if (!ReferenceEquals(reduced, grad)) grad.Dispose();
        return reduced;
    }
}
