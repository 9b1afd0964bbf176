#include "ports/IbverbsRawQueue.hpp"

#include <fcntl.h>
#include <infiniband/verbs.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <vector>

#include "base/UniqueFd.hpp"

namespace tvf {
namespace {

// Every verbs object is owned; members are declared in creation order, so
// they are destroyed in reverse (flows and MR before the QP, the QP before
// its CQs, everything before the PD and the context).
struct DeviceListFree { void operator()(ibv_device** l) const { ibv_free_device_list(l); } };
struct ContextClose { void operator()(ibv_context* c) const { ibv_close_device(c); } };
struct PdFree { void operator()(ibv_pd* p) const { ibv_dealloc_pd(p); } };
struct ChannelFree { void operator()(ibv_comp_channel* c) const { ibv_destroy_comp_channel(c); } };
struct CqFree { void operator()(ibv_cq* c) const { ibv_destroy_cq(c); } };
struct QpFree { void operator()(ibv_qp* q) const { ibv_destroy_qp(q); } };
struct MrFree { void operator()(ibv_mr* m) const { ibv_dereg_mr(m); } };
struct FlowFree { void operator()(ibv_flow* f) const { ibv_destroy_flow(f); } };

constexpr std::uint16_t kMaxTsoHeader = 192;
constexpr int kPollMax = 64;

bool setNonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// The attribute with its one spec right behind it, as ibv_create_flow reads them.
struct __attribute__((packed, aligned(4))) EthRule {
  ibv_flow_attr attr;
  ibv_flow_spec_eth eth;
};

class IbverbsRawQueue final : public RawQueue {
 public:
  ~IbverbsRawQueue() override {
    // ibv_destroy_cq waits for every event taken from the channel to be acked.
    if (recvCq_ && unacked_) ibv_ack_cq_events(recvCq_.get(), unacked_);
  }

  Status build(const RawQueueSpec& spec, std::span<std::uint8_t> region) {
    int count = 0;
    std::unique_ptr<ibv_device*, DeviceListFree> list(ibv_get_device_list(&count));
    if (!list) return Status::fail(errno ? errno : ENODEV, "ibv_get_device_list");
    ibv_device* dev = nullptr;
    for (int i = 0; i < count; ++i)
      if (spec.rdmaDevice == ibv_get_device_name(list.get()[i])) dev = list.get()[i];
    if (!dev) return Status::fail(ENODEV, "no RDMA device " + spec.rdmaDevice);
    context_.reset(ibv_open_device(dev));
    if (!context_) return Status::fail(errno ? errno : ENODEV, "ibv_open_device " + spec.rdmaDevice);

    ibv_device_attr_ex attr{};
    if (int rc = ibv_query_device_ex(context_.get(), nullptr, &attr); rc != 0)
      return Status::fail(rc, "ibv_query_device_ex " + spec.rdmaDevice);
    caps_.checksum = (attr.raw_packet_caps & IBV_RAW_PACKET_CAP_IP_CSUM) != 0 ||
                     (attr.orig_attr.device_cap_flags & IBV_DEVICE_RAW_IP_CSUM) != 0;
    const bool tso = (attr.tso_caps.supported_qpts & (1u << IBV_QPT_RAW_PACKET)) != 0 && attr.tso_caps.max_tso > 0;

    pd_.reset(ibv_alloc_pd(context_.get()));
    if (!pd_) return Status::fail(errno ? errno : ENOMEM, "ibv_alloc_pd");
    channel_.reset(ibv_create_comp_channel(context_.get()));
    if (!channel_ || !setNonblocking(channel_->fd) || !setNonblocking(context_->async_fd))
      return Status::fail(errno ? errno : ENOMEM, "completion channel");
    recvCq_.reset(ibv_create_cq(context_.get(), static_cast<int>(spec.recvSlots), nullptr, channel_.get(), 0));
    sendCq_.reset(ibv_create_cq(context_.get(), static_cast<int>(spec.sendSlots), nullptr, nullptr, 0));
    if (!recvCq_ || !sendCq_) return Status::fail(errno ? errno : ENOMEM, "ibv_create_cq");

    ibv_qp_init_attr_ex qa{};
    qa.qp_type = IBV_QPT_RAW_PACKET;
    qa.send_cq = sendCq_.get();
    qa.recv_cq = recvCq_.get();
    qa.cap.max_send_wr = spec.sendSlots;
    qa.cap.max_recv_wr = spec.recvSlots;
    qa.cap.max_send_sge = 1;
    qa.cap.max_recv_sge = 1;
    qa.pd = pd_.get();
    qa.comp_mask = IBV_QP_INIT_ATTR_PD;
    if (tso) {
      qa.comp_mask |= IBV_QP_INIT_ATTR_MAX_TSO_HEADER;
      qa.max_tso_header = kMaxTsoHeader;
    }
    qp_.reset(ibv_create_qp_ex(context_.get(), &qa));
    if (!qp_) return Status::fail(errno ? errno : EOPNOTSUPP, "raw packet QP on " + spec.rdmaDevice);
    if (tso) {
      caps_.maxTsoHeader = kMaxTsoHeader;
      caps_.maxTso = attr.tso_caps.max_tso;
    }

    ibv_qp_attr qpa{};
    qpa.qp_state = IBV_QPS_INIT;
    qpa.port_num = spec.portNum;
    if (int rc = ibv_modify_qp(qp_.get(), &qpa, IBV_QP_STATE | IBV_QP_PORT); rc != 0)
      return Status::fail(rc, "QP to INIT");
    qpa = {};
    qpa.qp_state = IBV_QPS_RTR;
    if (int rc = ibv_modify_qp(qp_.get(), &qpa, IBV_QP_STATE); rc != 0) return Status::fail(rc, "QP to RTR");
    qpa = {};
    qpa.qp_state = IBV_QPS_RTS;
    if (int rc = ibv_modify_qp(qp_.get(), &qpa, IBV_QP_STATE); rc != 0) return Status::fail(rc, "QP to RTS");

    mr_.reset(ibv_reg_mr(pd_.get(), region.data(), region.size(), IBV_ACCESS_LOCAL_WRITE));
    if (!mr_) return Status::fail(errno ? errno : ENOMEM, "ibv_reg_mr");

    // Steering: the pair's MAC and broadcast are required; the multicast
    // default rule is not offered by every device and is best effort.
    const std::array<std::uint8_t, 6> broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (const auto& mac : {spec.mac.bytes(), broadcast}) {
      EthRule r{};
      r.attr.type = IBV_FLOW_ATTR_NORMAL;
      r.attr.size = sizeof r;
      r.attr.num_of_specs = 1;
      r.attr.port = spec.portNum;
      r.eth.type = IBV_FLOW_SPEC_ETH;
      r.eth.size = sizeof r.eth;
      std::memcpy(r.eth.val.dst_mac, mac.data(), 6);
      std::memset(r.eth.mask.dst_mac, 0xff, 6);
      std::unique_ptr<ibv_flow, FlowFree> f(ibv_create_flow(qp_.get(), reinterpret_cast<ibv_flow_attr*>(&r)));
      if (!f) return Status::fail(errno ? errno : EOPNOTSUPP, "steering rule on " + spec.rdmaDevice);
      flows_.push_back(std::move(f));
    }
    ibv_flow_attr mc{};
    mc.type = IBV_FLOW_ATTR_MC_DEFAULT;
    mc.size = sizeof mc;
    mc.port = spec.portNum;
    if (std::unique_ptr<ibv_flow, FlowFree> f(ibv_create_flow(qp_.get(), &mc)); f) flows_.push_back(std::move(f));

    auto ep = UniqueFd::epoll();
    if (!ep) return ep.status();
    events_ = std::move(ep).value();
    for (int fd : {channel_->fd, context_->async_fd}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (::epoll_ctl(events_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return Status::fail(errno, "epoll_ctl");
    }
    return Status::ok();
  }

  RawQueueCaps caps() const noexcept override { return caps_; }
  int eventFd() const noexcept override { return events_.get(); }

  int armReceive() noexcept override {
    ibv_async_event ae;
    while (ibv_get_async_event(context_.get(), &ae) == 0) {
      if (ae.event_type == IBV_EVENT_DEVICE_FATAL || ae.event_type == IBV_EVENT_QP_FATAL)
        fatal_.store(true, std::memory_order_relaxed);
      ibv_ack_async_event(&ae);
    }
    ibv_cq* cq = nullptr;
    void* ctx = nullptr;
    while (ibv_get_cq_event(channel_.get(), &cq, &ctx) == 0) ++unacked_;
    if (unacked_) {
      ibv_ack_cq_events(recvCq_.get(), unacked_);
      unacked_ = 0;
    }
    if (fatal_.load(std::memory_order_relaxed)) return -ENXIO;
    if (int rc = ibv_req_notify_cq(recvCq_.get(), 0); rc != 0) return -rc;
    return 0;
  }

  int postReceive(std::uint32_t slot, std::uint8_t* buf, std::uint32_t len) noexcept override {
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(buf), len, mr_->lkey};
    ibv_recv_wr wr{};
    wr.wr_id = slot;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    ibv_recv_wr* bad = nullptr;
    return mapPostError(ibv_post_recv(qp_.get(), &wr, &bad));
  }

  int postSend(std::uint32_t slot, const std::uint8_t* buf, std::uint32_t len,
               const RawSendOptions& o) noexcept override {
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(buf), len, mr_->lkey};
    ibv_send_wr wr{};
    wr.wr_id = slot;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    unsigned flags = IBV_SEND_SIGNALED;
    if (o.deviceChecksum) flags |= IBV_SEND_IP_CSUM;
    wr.send_flags = flags;
    wr.opcode = IBV_WR_SEND;
    if (o.tsoMss > 0) {
      wr.opcode = IBV_WR_TSO;
      wr.tso.hdr = const_cast<std::uint8_t*>(buf);
      wr.tso.hdr_sz = o.tsoHeaderLen;
      wr.tso.mss = o.tsoMss;
      sge.addr += o.tsoHeaderLen;
      sge.length -= o.tsoHeaderLen;
    }
    // Held back with `more`: chained and posted (one doorbell) at
    // flushSend() or when the chain is full.
    const std::size_t at = pending_;
    sges_[at] = sge;
    wrs_[at] = wr;
    wrs_[at].sg_list = &sges_[at];
    wrs_[at].next = nullptr;
    if (at > 0) wrs_[at - 1].next = &wrs_[at];
    ++pending_;
    if (o.more && pending_ < kChain) return 0;
    return flushSend();
  }

  int flushSend() noexcept override {
    if (pending_ == 0) return 0;
    ibv_send_wr* bad = nullptr;
    const int rc = ibv_post_send(qp_.get(), &wrs_[0], &bad);
    pending_ = 0;
    return mapPostError(rc);
  }

  int pollReceive(std::span<RawCompletion> out) noexcept override { return poll(recvCq_.get(), out); }
  int pollSend(std::span<RawCompletion> out) noexcept override { return poll(sendCq_.get(), out); }

 private:
  int mapPostError(int rc) noexcept {
    if (rc == 0) return 0;
    if (fatal_.load(std::memory_order_relaxed)) return -ENXIO;
    return rc == ENOMEM ? -ENOBUFS : -rc;
  }

  int poll(ibv_cq* cq, std::span<RawCompletion> out) noexcept {
    if (fatal_.load(std::memory_order_relaxed)) return -ENXIO;
    std::array<ibv_wc, kPollMax> wc;
    const int n = ibv_poll_cq(cq, static_cast<int>(std::min<std::size_t>(out.size(), wc.size())), wc.data());
    if (n < 0) return -ENXIO;
    for (int i = 0; i < n; ++i) {
      const ibv_wc& w = wc[static_cast<std::size_t>(i)];
      if (w.status == IBV_WC_WR_FLUSH_ERR) {
        // The QP went to the error state: the device is gone or broken.
        fatal_.store(true, std::memory_order_relaxed);
        return -ENXIO;
      }
      auto& c = out[static_cast<std::size_t>(i)];
      c.slot = static_cast<std::uint32_t>(w.wr_id);
      c.byteLen = w.byte_len;
      c.ok = w.status == IBV_WC_SUCCESS;
      c.checksumOk = (w.wc_flags & IBV_WC_IP_CSUM_OK) != 0;
    }
    return n;
  }

  std::unique_ptr<ibv_context, ContextClose> context_;
  std::unique_ptr<ibv_pd, PdFree> pd_;
  std::unique_ptr<ibv_comp_channel, ChannelFree> channel_;
  std::unique_ptr<ibv_cq, CqFree> recvCq_;
  std::unique_ptr<ibv_cq, CqFree> sendCq_;
  std::unique_ptr<ibv_qp, QpFree> qp_;
  std::unique_ptr<ibv_mr, MrFree> mr_;
  std::vector<std::unique_ptr<ibv_flow, FlowFree>> flows_;
  UniqueFd events_;  // epoll over the completion channel and the async fd
  RawQueueCaps caps_;
  std::atomic<bool> fatal_{false};  // set by either worker, read by both
  // Sends held back with `more`, chained for one ibv_post_send (one doorbell).
  static constexpr std::size_t kChain = 64;
  std::array<ibv_send_wr, kChain> wrs_{};
  std::array<ibv_sge, kChain> sges_{};
  std::size_t pending_ = 0;
  unsigned unacked_ = 0;            // RX worker only
};

}  // namespace

Result<RawQueuePtr> IbverbsRawQueueProvider::open(const RawQueueSpec& spec, std::span<std::uint8_t> region) {
  auto q = std::make_unique<IbverbsRawQueue>();
  if (auto st = q->build(spec, region); !st) return st.error();
  return RawQueuePtr(std::move(q));
}

}  // namespace tvf
