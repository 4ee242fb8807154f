# Faster R-CNN 1x with ParNet-M and a 5-level ParNet neck on COCO.
_base_ = './parnet/faster-rcnn_parnet-m_parnet-neck_1x_coco.py'
