using CrossDistill.Engine;
using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers.Modules;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// FitNet hints (Romero et al., ICLR 2015), single-stage as mdistiller and OFA-KD train it:
/// CE + w·Σ_stages MSE(regressor(F_s), F_t) with a <see cref="HintAligner"/> per hinted stage that
/// also bridges feature maps and token sequences. Stages are 1-based; the default is stage 3 (the
/// third of four, stride 16 in 224-px models: 14×14 maps or ViT block 9), the usual "middle layer"
/// hint for four-stage models (mdistiller's hint_layer 2 counts from 0 over CIFAR ResNets' three
/// stages plus the stem).
/// </summary>
[Distiller("fitnet", "Romero et al. 2015: a hint loss between a student stage (through a regressor) and the teacher's stage, map/token aligned.", Teachers = 1)]
public sealed class FitNet : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Stages (1 … 4) whose student features are regressed onto the teacher's.")]
        public int[] Stages { get; set; } = { 3 };

        [ConfigDoc("Weight of the hint (MSE) loss (OFA-KD: 1; mdistiller's CIFAR ResNets: 100).")]
        [ConfigRange(0, 100000)] public float Weight { get; set; } = 1f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;

        [ConfigDoc("How the student's grid is resampled to the teacher's: bilinear or nearest.")]
        public ResampleMode Resample { get; set; } = ResampleMode.Bilinear;
    }

    public enum ResampleMode { Bilinear, Nearest }

    private readonly Params _p;
    private readonly int[] _stages;
    private readonly Engine.Nn.ModuleDict<HintAligner> _aligners;

    public FitNet(DistillerSetup setup, Params p) : base(setup)
    {
        var student = setup.Student;
        var teacher = Teacher;
        _p = p;
        _stages = OFA.CheckStages("FitNet", p.Stages);
        _aligners = RegisterModule("aligners", new Engine.Nn.ModuleDict<HintAligner>());
        foreach (int stage in _stages)
            _aligners.Add(Key(stage), new HintAligner(student.StageOutputSpecs[stage - 1], teacher.StageOutputSpecs[stage - 1], p.Resample == ResampleMode.Nearest ? "nearest" : "bilinear"));
        OfficialInit.Apply(_aligners);
    }


    public HintAligner Aligner(int stage) => _aligners[Key(stage)];

    private static string Key(int stage) => stage.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var output = Student.ForwardFeatures(batch.Images);
        var teacherFeatures = TeacherForward(batch.Images).Features;
        Tensor? hint = null;
        foreach (int stage in _stages)
        {
            var aligner = Aligner(stage);
            var term = F.MseLoss(aligner.Forward(output.Features[stage - 1]), aligner.Target(teacherFeatures[stage - 1]));
            hint = hint is null ? term : hint + term;
        }
        return new DistillOutput(output.Logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(output.Logits, batch) * _p.CeWeight,
            ["loss_hint"] = hint! * _p.Weight,
        });
    }
}
