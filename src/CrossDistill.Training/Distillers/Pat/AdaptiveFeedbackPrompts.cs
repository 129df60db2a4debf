using System.Globalization;
using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// PAT's Adaptive Feedback Prompts (research notes §1.5): a <see cref="PromptBlock"/> before each
/// configured teacher stage (1-based stage numbers), and the teacher run stage by stage through
/// them with autograd on, so that the frozen teacher passes gradients back to the prompts.
/// <para>
/// Feedback: after each training step the gap "aligned student − prompted teacher" of every
/// prompted stage is kept, detached, in grid form (<see cref="PatFeatures"/>): one buffer for the
/// whole method, holding the previous mini-batch (different images; sample j's feedback is paired
/// with sample j of the next batch, as the official code does). Before stage i the gap is mapped by
/// <c>fb_aligners.i</c> (M_i^AFP) from the stage's output shape to its input shape: Identity when
/// they match, else a <see cref="MapAligner"/> (nearest resize → BN2d → 1×1 conv) for maps or a
/// <see cref="TokenAligner"/> for tokens. Without feedback (the first step, a batch of another size,
/// or <see cref="UseFeedback"/> off) the prompt blocks skip their fusion.
/// </para>
/// <para>
/// The feedback buffers are registered non-persistent (their batch dimension is only known once
/// training runs, so a persistent one would make fresh modules refuse checkpoints); checkpoints
/// carry them through <see cref="FeedbackState"/> and <see cref="LoadFeedbackState"/>.
/// </para>
/// </summary>
public sealed class AdaptiveFeedbackPrompts : Module
{
    private readonly FeatureSpec[] _inputSpecs;
    private readonly FeatureSpec[] _outputSpecs;
    private readonly Dictionary<int, Tensor> _feedback = new();

    public AdaptiveFeedbackPrompts(IReadOnlyList<FeatureSpec> teacherInputSpecs, IReadOnlyList<FeatureSpec> teacherOutputSpecs,
        IReadOnlyList<int> stages, bool asPublished, bool useFeedback = true)
    {
        ArgumentNullException.ThrowIfNull(teacherInputSpecs);
        ArgumentNullException.ThrowIfNull(teacherOutputSpecs);
        ArgumentNullException.ThrowIfNull(stages);
        if (teacherInputSpecs.Count != 4 || teacherOutputSpecs.Count != 4)
            throw new ArgumentException($"AdaptiveFeedbackPrompts: expected 4 teacher stage input and output specs, got {teacherInputSpecs.Count} and {teacherOutputSpecs.Count}.");
        if (stages.Any(s => s < 1 || s > 4) || stages.Distinct().Count() != stages.Count)
            throw new ArgumentException($"AdaptiveFeedbackPrompts: stages [{string.Join(", ", stages)}] must be distinct stage numbers 1-4.", nameof(stages));
        _inputSpecs = teacherInputSpecs.ToArray();
        _outputSpecs = teacherOutputSpecs.ToArray();
        Stages = stages.OrderBy(s => s).ToArray();
        AsPublished = asPublished;
        UseFeedback = useFeedback;
        Blocks = RegisterModule("blocks", new ModuleDict<PromptBlock>());
        FeedbackAligners = RegisterModule("fb_aligners", new ModuleDict<Module<Tensor, Tensor>>());
        foreach (int s in Stages)
        {
            Blocks[Key(s)] = new PromptBlock(_inputSpecs[s - 1], asPublished);
            FeedbackAligners[Key(s)] = CreateFeedbackAligner(_outputSpecs[s - 1], _inputSpecs[s - 1], asPublished);
            _feedback[s] = RegisterBuffer(FeedbackName(s), Torch.Empty(0), persistent: false);
        }
    }

    /// <summary>The prompted stages, 1-based and ascending.</summary>
    public IReadOnlyList<int> Stages { get; }

    public bool AsPublished { get; }

    /// <summary>Whether the prompts see the feedback (AFP with vs. without feedback).</summary>
    public bool UseFeedback { get; set; }

    public ModuleDict<PromptBlock> Blocks { get; }
    public ModuleDict<Module<Tensor, Tensor>> FeedbackAligners { get; }

    /// <summary>
    /// M_i^AFP, from a stage's output (grid form) to its input (grid form): Identity when the shapes
    /// match, else an aligner of the same kind initialised as the official code.
    /// </summary>
    public static Module<Tensor, Tensor> CreateFeedbackAligner(FeatureSpec outputSpec, FeatureSpec inputSpec, bool asPublished)
    {
        var source = PatFeatures.GridSpec(outputSpec, asPublished, "AdaptiveFeedbackPrompts: stage output");
        var target = PatFeatures.GridSpec(inputSpec, asPublished, "AdaptiveFeedbackPrompts: stage input");
        if (source == target) return new Identity();
        if (source.GetType() != target.GetType())
            throw new ArgumentException($"AdaptiveFeedbackPrompts: a stage whose output ({outputSpec}) and input ({inputSpec}) are of different kinds is not supported.");
        return Aligners.Create(source, target);
    }

    /// <summary>
    /// Runs <paramref name="teacher"/> stage by stage with the prompts (Stem, StageInput(i), prompt,
    /// Stage(i), …, Head), recording the graph wherever a prompt's parameters take part.
    /// </summary>
    public ModelOutput Forward(VisionModel teacher, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(images);
        if (!teacher.StageInputSpecs.SequenceEqual(_inputSpecs) || !teacher.StageOutputSpecs.SequenceEqual(_outputSpecs))
            throw new ArgumentException($"AdaptiveFeedbackPrompts: built for a teacher with stage inputs [{string.Join(", ", _inputSpecs.AsEnumerable())}] and outputs [{string.Join(", ", _outputSpecs.AsEnumerable())}], got {teacher.ArchitectureName} with [{string.Join(", ", teacher.StageInputSpecs.AsEnumerable())}] and [{string.Join(", ", teacher.StageOutputSpecs.AsEnumerable())}].", nameof(teacher));
        var h = teacher.Stem(images);
        var features = new Tensor[4];
        for (int i = 0; i < 4; i++)
        {
            h = teacher.StageInput(i, h);
            if (Blocks.TryGetValue(Key(i + 1), out var block))
                h = block.Forward(h, AlignedFeedback(i + 1, h.Shape[0]));
            h = teacher.Stage(i, h);
            features[i] = h;
        }
        return new ModelOutput(teacher.Head(h), features);
    }

    /// <summary>The kept gap of a prompted stage (B, grid shape), or null before the first update.</summary>
    public Tensor? Feedback(int stage)
    {
        if (!_feedback.TryGetValue(stage, out var t))
            throw new ArgumentException($"AdaptiveFeedbackPrompts: stage {stage} has no prompt (prompted stages: {string.Join(", ", Stages)}).", nameof(stage));
        return t.Numel == 0 ? null : t;
    }

    /// <summary>
    /// Keeps alignedStudent[i] − promptedTeacher[i] (detached) for every prompted stage; both lists
    /// hold the four stages' features in grid form.
    /// </summary>
    public void UpdateFeedback(IReadOnlyList<Tensor> alignedStudent, IReadOnlyList<Tensor> promptedTeacher)
    {
        ArgumentNullException.ThrowIfNull(alignedStudent);
        ArgumentNullException.ThrowIfNull(promptedTeacher);
        if (alignedStudent.Count != 4 || promptedTeacher.Count != 4)
            throw new ArgumentException($"AdaptiveFeedbackPrompts.UpdateFeedback: expected 4 stages each, got {alignedStudent.Count} and {promptedTeacher.Count}.");
        using var _ = GradMode.NoGrad();
        foreach (int s in Stages)
        {
            var student = alignedStudent[s - 1];
            var teacher = promptedTeacher[s - 1];
            if (!student.Shape.AsSpan().SequenceEqual(teacher.Shape))
                throw new ArgumentException($"AdaptiveFeedbackPrompts.UpdateFeedback: stage {s}: aligned student {ShapeUtil.Format(student.Shape)} and teacher {ShapeUtil.Format(teacher.Shape)} differ.");
            SetFeedback(s, student - teacher);
        }
    }

    /// <summary>Forgets the feedback (the next step runs as the first one).</summary>
    public void ResetFeedback()
    {
        foreach (int s in Stages) SetFeedback(s, Torch.Empty(0));
    }

    /// <summary>The feedback buffers that hold a gap, by name ("feedback_1", …), for checkpoints.</summary>
    public Dictionary<string, Tensor> FeedbackState()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (int s in Stages)
            if (Feedback(s) is { } t) state[FeedbackName(s)] = t;
        return state;
    }

    /// <summary>Restores the feedback from <see cref="FeedbackState"/>'s tensors (copied); absent stages have none.</summary>
    public void LoadFeedbackState(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var unknown = state.Keys.Where(k => !Stages.Any(s => FeedbackName(s) == k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"AdaptiveFeedbackPrompts.LoadFeedbackState: unknown keys {string.Join(", ", unknown)} (expected {string.Join(", ", Stages.Select(FeedbackName))}).", nameof(state));
        foreach (int s in Stages)
        {
            if (!state.TryGetValue(FeedbackName(s), out var t))
            {
                SetFeedback(s, Torch.Empty(0));
                continue;
            }
            var grid = PatFeatures.GridSpec(_outputSpecs[s - 1], AsPublished, "AdaptiveFeedbackPrompts");
            PatFeatures.CheckShape(t, grid, $"AdaptiveFeedbackPrompts.LoadFeedbackState: {FeedbackName(s)}");
            using var _ = GradMode.NoGrad();
            SetFeedback(s, t.Clone());
        }
    }

    private Tensor? AlignedFeedback(int stage, int batch)
    {
        if (!UseFeedback || Feedback(stage) is not { } gap || gap.Shape[0] != batch) return null;
        // A view, so the step's graph keeps the storage alive when the buffer is replaced before backward.
        return FeedbackAligners[Key(stage)].Forward(gap.Detach());
    }

    private void SetFeedback(int stage, Tensor value)
    {
        var old = _feedback[stage];
        _feedback[stage] = RegisterBuffer(FeedbackName(stage), value, persistent: false);
        old.Dispose();
    }

    private static string Key(int stage) => stage.ToString(CultureInfo.InvariantCulture);

    private static string FeedbackName(int stage) => "feedback_" + Key(stage);
}
