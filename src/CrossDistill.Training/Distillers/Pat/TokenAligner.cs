using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// Projects tokens (B, L_in, D_in) onto (B, L_out, D_out), as the official ViT projector:
/// <c>mlp_d</c> = BatchNorm1d(L_in) (tokens as channels) → Linear(D_in→D_out), transpose,
/// <c>mlp_l</c> = BatchNorm1d(D_out) → Linear(L_in→L_out), transpose back. Maps (B, C, h, w) are
/// flattened to row-major tokens (B, h·w, C) first.
/// </summary>
public sealed class TokenAligner : Module<Tensor, Tensor>
{
    public TokenAligner(int inTokens, int inDim, int outTokens, int outDim)
    {
        if (inTokens < 1 || inDim < 1 || outTokens < 1 || outDim < 1)
            throw new ArgumentException($"TokenAligner: sizes must be positive, got ({inTokens}, {inDim}) → ({outTokens}, {outDim}).");
        (InTokens, InDim, OutTokens, OutDim) = (inTokens, inDim, outTokens, outDim);
        MlpD = RegisterModule("mlp_d", new Sequential(new BatchNorm1d(inTokens), new Linear(inDim, outDim)));
        MlpL = RegisterModule("mlp_l", new Sequential(new BatchNorm1d(outDim), new Linear(inTokens, outTokens)));
    }

    public int InTokens { get; }
    public int InDim { get; }
    public int OutTokens { get; }
    public int OutDim { get; }
    public Sequential MlpD { get; }
    public Sequential MlpL { get; }

    public override Tensor Forward(Tensor x)
    {
        var tokens = PatFeatures.AsTokens(x);
        if (tokens.Rank != 3 || tokens.Shape[1] != InTokens || tokens.Shape[2] != InDim)
            throw new ArgumentException($"TokenAligner: expected (B, {InTokens}, {InDim}) tokens, got {ShapeUtil.Format(x.Shape)}.");
        var projected = MlpD.Forward(tokens);
        return MlpL.Forward(projected.Transpose(1, 2)).Transpose(1, 2);
    }
}
