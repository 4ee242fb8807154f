# mmdet detector -> ONNX Runtime, end to end (NMS in the graph as the standard
# NonMaxSuppression op): outputs dets (batch, n, 5: x1 y1 x2 y2 score) and labels (batch, n).
# The model's own test_cfg (score_thr, nms iou, max_per_img) wins over post_processing where
# it sets them, as in mmdeploy.
_base_ = ['./_base_onnxruntime.py']

onnx_config = dict(output_names=['dets', 'labels'])
codebase_config = dict(
    type='mmdet',
    task='ObjectDetection',
    model_type='end2end',
    module=['mmshallow.deploy'],
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1))
