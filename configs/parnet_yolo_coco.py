# The headline detector: YOLOX with ParNet-M on COCO
# (`mim train mmdet configs/parnet_yolo_coco.py`).
# Variants: configs/parnet/yolox_parnet-{m,l,xl}_8xb8-300e_coco.py.
_base_ = './parnet/yolox_parnet-m_8xb8-300e_coco.py'
