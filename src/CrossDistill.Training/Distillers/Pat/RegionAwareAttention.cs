using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// PAT's Region-Aware Attention (research notes §1.3): each of the four student stages is
/// patchified by a strided convolution into N_q/4 tokens of width d (laid out as a g×g grid,
/// g = √(N_q/4)); the tokens of all stages attend to each other (multi-head softmax attention,
/// scale head_dim^−½, queries, keys and values all from the student); the result is split back into
/// the four stages, (B, N_q/4, d) each. As in the official code there is no output projection, no
/// residual and no MLP.
/// <para>
/// Patchify: token stages become maps first (<see cref="PatFeatures"/>); with ps = ⌈H/g⌉ a map
/// smaller than ps·g is nearest-upsampled to it, then Conv2d(C→d, kernel = stride = ps) (per axis,
/// so non-square maps work too). One LayerNorm(d), <c>to_q</c> = Linear(d, d) and
/// <c>to_kv</c> = Linear(d, 2d) are shared by all stages.
/// </para>
/// <para>
/// Positional encoding: a sinusoidal table added to the queries and keys. Corrected mode indexes it
/// by token (0…N_q−1), so region and stage are visible to the attention; as_published indexes it by
/// the sample's position in the batch, the same row for every token of a sample, as the official
/// code does (open questions 2).
/// </para>
/// </summary>
public sealed class RegionAwareAttention : Module
{
    private readonly FeatureSpec[] _specs;
    private readonly (int H, int W)[] _patchifiedSizes;
    private Tensor? _positions;

    public RegionAwareAttention(IReadOnlyList<FeatureSpec> studentSpecs, int numQueries, int dim, int heads, bool asPublished)
    {
        ArgumentNullException.ThrowIfNull(studentSpecs);
        if (studentSpecs.Count != 4)
            throw new ArgumentException($"RegionAwareAttention: expected 4 student stage specs, got {studentSpecs.Count}.", nameof(studentSpecs));
        int perStage = numQueries / 4;
        int grid = (int)Math.Round(Math.Sqrt(perStage));
        if (numQueries <= 0 || numQueries % 4 != 0 || grid * grid != perStage)
            throw new ArgumentException($"RegionAwareAttention: num_queries {numQueries} must be 4·g² (e.g. 36, 64, 144) so each stage is a g×g grid of tokens.", nameof(numQueries));
        if (heads < 1 || dim < 2 || dim % heads != 0 || dim % 2 != 0)
            throw new ArgumentException($"RegionAwareAttention: dim {dim} must be even and divisible by heads {heads}.", nameof(dim));
        (NumQueries, Dim, Heads, AsPublished, GridSide) = (numQueries, dim, heads, asPublished, grid);
        _specs = studentSpecs.ToArray();
        _patchifiedSizes = new (int, int)[4];
        var embeds = new List<Conv2d>();
        for (int i = 0; i < 4; i++)
        {
            var map = PatFeatures.MapShape(_specs[i], asPublished, $"RegionAwareAttention: student stage {i + 1}");
            int ph = (map.Height + grid - 1) / grid, pw = (map.Width + grid - 1) / grid;
            _patchifiedSizes[i] = (ph * grid, pw * grid);
            embeds.Add(new Conv2d(map.Channels, dim, new[] { ph, pw }, new[] { ph, pw }, new[] { 0, 0 }, new[] { 1, 1 }));
        }
        PatchEmbeds = RegisterModule("patch_embeds", new ModuleList<Conv2d>(embeds));
        Norm = RegisterModule("norm", new LayerNorm(dim));
        ToQ = RegisterModule("to_q", new Linear(dim, dim));
        ToKv = RegisterModule("to_kv", new Linear(dim, 2 * dim));
    }

    public int NumQueries { get; }
    public int Dim { get; }
    public int Heads { get; }
    public bool AsPublished { get; }

    /// <summary>g: each stage's tokens form a g×g grid (g² = N_q/4).</summary>
    public int GridSide { get; }

    public ModuleList<Conv2d> PatchEmbeds { get; }
    public LayerNorm Norm { get; }
    public Linear ToQ { get; }
    public Linear ToKv { get; }

    /// <summary>The four blended stage features, (B, N_q/4, d) each, from the four student stage features.</summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> studentFeatures)
    {
        ArgumentNullException.ThrowIfNull(studentFeatures);
        if (studentFeatures.Count != 4)
            throw new ArgumentException($"RegionAwareAttention: expected 4 student features, got {studentFeatures.Count}.", nameof(studentFeatures));
        int batch = studentFeatures[0].Shape[0];
        var stageTokens = new Tensor[4];
        for (int i = 0; i < 4; i++)
        {
            PatFeatures.CheckShape(studentFeatures[i], _specs[i], $"RegionAwareAttention: student stage {i + 1}");
            if (studentFeatures[i].Shape[0] != batch)
                throw new ArgumentException($"RegionAwareAttention: stage {i + 1} has batch {studentFeatures[i].Shape[0]}, stage 1 has {batch}.");
            var map = PatFeatures.AsMap(PatFeatures.GridTokens(studentFeatures[i], _specs[i], AsPublished));
            var (h, w) = _patchifiedSizes[i];
            if (map.Shape[2] != h || map.Shape[3] != w) map = F.Interpolate(map, size: new[] { h, w }, mode: "nearest");
            stageTokens[i] = Norm.Forward(PatFeatures.MapToTokens(PatchEmbeds[i].Forward(map)));
        }
        var x = Torch.Cat(stageTokens, 1);
        var q = ToQ.Forward(x);
        var kv = ToKv.Forward(x).Chunk(2, -1);
        var positions = AsPublished
            ? Positions(batch).Unsqueeze(1)   // (B, 1, d): one row per sample, as coded
            : Positions(NumQueries).Unsqueeze(0); // (1, N_q, d): one row per token
        q += positions;
        var k = kv[0] + positions;
        var attended = F.ScaledDotProductAttention(SplitHeads(q, batch), SplitHeads(k, batch), SplitHeads(kv[1], batch),
            scale: 1f / MathF.Sqrt(Dim / Heads));
        var blended = attended.Transpose(1, 2).Reshape(batch, NumQueries, Dim);
        return blended.Chunk(4, 1);
    }

    private Tensor SplitHeads(Tensor x, int batch) => x.Reshape(batch, NumQueries, Heads, Dim / Heads).Transpose(1, 2);

    /// <summary>The first <paramref name="rows"/> rows of the sinusoidal table, (rows, d); grown on demand.</summary>
    private Tensor Positions(int rows)
    {
        if (_positions is null || _positions.Shape[0] < rows)
        {
            var table = Sinusoid(Math.Max(rows, NumQueries), Dim);
            _positions?.Dispose();
            _positions = RegisterBuffer("positions", table, persistent: false);
        }
        return _positions.Narrow(0, 0, rows);
    }

    /// <summary>
    /// The transformer's sinusoidal table: row p, column 2i is sin(p·ω_i), column 2i+1 cos(p·ω_i),
    /// ω_i = 10000^(−2i/d); ω and the products are rounded to float as PyTorch computes them.
    /// </summary>
    public static Tensor Sinusoid(int rows, int dim)
    {
        var table = Torch.Empty(rows, dim);
        var span = table.Span;
        for (int i = 0; i < dim / 2; i++)
        {
            float omega = MathF.Exp(2 * i * (float)(-Math.Log(10000.0) / dim));
            for (int p = 0; p < rows; p++)
            {
                float angle = p * omega;
                span[p * dim + 2 * i] = MathF.Sin(angle);
                span[p * dim + 2 * i + 1] = MathF.Cos(angle);
            }
        }
        return table;
    }
}
