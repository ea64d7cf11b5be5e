"""npu_bridge/npu_init.py: the adapter's star-import module. The project imports it only to
check that the adapter is there, so here it holds nothing."""
