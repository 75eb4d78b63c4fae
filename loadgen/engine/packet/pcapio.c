/* pcapio — the packet-I/O backend over libpcap (see pktio.h): immediate
 * mode (TPACKET_V2, no block buffering), non-blocking, incoming frames
 * only, ARP and IPv4 TCP let through by a BPF filter. The one file of the
 * packet engine that includes pcap.h.
 *
 * Receive copies each frame out of libpcap's ring into a buffer of this
 * backend's (libpcap hands a ring slot back to the kernel as soon as its
 * callback returns); send is pcap_inject, one send() per frame. */
#include "loadgen/engine/packet/packet_int.h"

#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct pcapio {
	struct ct_pktio pub;
	pcap_t *p;
	unsigned burst;
	uint8_t *rx_mem, *tx_mem;
	unsigned rx_n;	  /* frames filled by the running dispatch */
	struct ct_pkt *rx_out;
	uint32_t *tx_free; /* stack of free tx buffer indexes */
	unsigned tx_top, tx_bufs;
};

/* The interface's MAC and MTU, read with ioctls in the current netns. */
static int if_info(const char *ifname, uint8_t mac[6], unsigned *mtu, struct ct_err *err)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	if (fd < 0)
		rc = -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!rc && ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	if (!rc)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!rc && ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		rc = -errno;
	if (!rc)
		*mtu = (unsigned)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	if (rc)
		ct_err_set(err, CT_EXIT_ENV, "packet engine: interface %s: %s", ifname,
			   strerror(-rc));
	return rc;
}

static void pcapio_close(struct ct_pktio *pub)
{
	struct pcapio *io = (struct pcapio *)pub;
	if (io->p)
		pcap_close(io->p);
	free(io->rx_mem);
	free(io->tx_mem);
	free(io->tx_free);
	free(io);
}

/* Create, set and activate the handle; 0 or -1 with err filled. */
static int activate(struct pcapio *io, const char *ifname, struct ct_err *err)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;

	io->p = pcap_create(ifname, eb);
	if (!io->p) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: pcap on %s: %s", ifname, eb);
		return -1;
	}
	pcap_set_snaplen(io->p, (int)io->pub.frame_size);
	pcap_set_immediate_mode(io->p, 1);
	pcap_set_buffer_size(io->p, 8 << 20);
	int rc = pcap_activate(io->p);
	if (rc < 0) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: pcap on %s: %s%s", ifname,
			   pcap_geterr(io->p),
			   rc == PCAP_ERROR_PERM_DENIED ? " (needs root or CAP_NET_RAW)" : "");
		return -1;
	}
	if (pcap_datalink(io->p) != DLT_EN10MB) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: %s is not an Ethernet interface",
			   ifname);
		return -1;
	}
	/* Our own frames stay out of the receive path; IPv6 router
	 * solicitations and the like are filtered in the kernel. */
	if (pcap_setdirection(io->p, PCAP_D_IN) < 0 || pcap_setnonblock(io->p, 1, eb) < 0 ||
	    pcap_compile(io->p, &prog, "arp or (ip and tcp)", 1, PCAP_NETMASK_UNKNOWN) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: pcap on %s: %s", ifname,
			   pcap_geterr(io->p));
		return -1;
	}
	rc = pcap_setfilter(io->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: pcap filter on %s: %s", ifname,
			   pcap_geterr(io->p));
		return -1;
	}
	return 0;
}

static struct ct_pktio *pcapio_open(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	struct pcapio *io = calloc(1, sizeof(*io));
	if (!io) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: out of memory");
		return NULL;
	}
	io->pub.ops = &ct_pktio_pcap_ops;
	if (if_info(cfg->ifname, io->pub.mac, &io->pub.mtu, err) < 0)
		goto fail;
	io->pub.frame_size = io->pub.mtu + CT_ETH_HLEN + 4;
	io->burst = cfg->burst ? cfg->burst : 64;
	io->tx_bufs = cfg->tx_bufs ? cfg->tx_bufs : 2 * io->burst;
	io->rx_mem = malloc((size_t)io->burst * io->pub.frame_size);
	io->tx_mem = malloc((size_t)io->tx_bufs * io->pub.frame_size);
	io->tx_free = malloc(io->tx_bufs * sizeof(*io->tx_free));
	if (!io->rx_mem || !io->tx_mem || !io->tx_free) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < io->tx_bufs; i++)
		io->tx_free[io->tx_top++] = io->tx_bufs - 1 - i;
	if (activate(io, cfg->ifname, err) < 0)
		goto fail;
	return &io->pub;
fail:
	pcapio_close(&io->pub);
	return NULL;
}

static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pcapio *io = (struct pcapio *)arg;
	if (h->caplen < h->len || h->caplen > io->pub.frame_size) {
		io->pub.st.rx_trunc++;
		return;
	}
	struct ct_pkt *pk = &io->rx_out[io->rx_n];
	pk->data = io->rx_mem + (size_t)io->rx_n * io->pub.frame_size;
	memcpy(pk->data, bytes, h->caplen);
	pk->len = h->caplen;
	pk->priv = NULL;
	io->rx_n++;
}

static unsigned pcapio_rx_burst(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct pcapio *io = (struct pcapio *)pub;
	if (n > io->burst)
		n = io->burst;
	io->rx_n = 0;
	io->rx_out = pkts;
	/* Non-blocking: returns what is waiting, up to n frames. */
	if (pcap_dispatch(io->p, (int)n, on_frame, (u_char *)io) < 0)
		return 0;
	pub->st.rx += io->rx_n;
	return io->rx_n;
}

static void pcapio_rx_free(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	/* The rx buffers are reused by the next burst. */
	(void)pub, (void)pkts, (void)n;
}

static unsigned pcapio_tx_alloc(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct pcapio *io = (struct pcapio *)pub;
	unsigned k = 0;
	for (; k < n && io->tx_top; k++) {
		uint32_t i = io->tx_free[--io->tx_top];
		pkts[k].data = io->tx_mem + (size_t)i * pub->frame_size;
		pkts[k].len = 0;
		pkts[k].priv = NULL;
	}
	return k;
}

static void pcapio_tx_free(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct pcapio *io = (struct pcapio *)pub;
	for (unsigned k = 0; k < n; k++)
		io->tx_free[io->tx_top++] =
		    (uint32_t)((size_t)(pkts[k].data - io->tx_mem) / pub->frame_size);
}

static unsigned pcapio_tx_burst(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct pcapio *io = (struct pcapio *)pub;
	unsigned k = 0;
	for (; k < n; k++) {
		if (pcap_inject(io->p, pkts[k].data, pkts[k].len) < 0) {
			pub->st.tx_fail++;
			break; /* ENOBUFS: the caller retries the rest */
		}
	}
	pub->st.tx += k;
	pcapio_tx_free(pub, pkts, k);
	return k;
}

static int pcapio_fd(struct ct_pktio *pub)
{
	return pcap_get_selectable_fd(((struct pcapio *)pub)->p);
}

const struct ct_pktio_ops ct_pktio_pcap_ops = {
    .name = "pcap",
    .open = pcapio_open,
    .rx_burst = pcapio_rx_burst,
    .rx_free = pcapio_rx_free,
    .tx_alloc = pcapio_tx_alloc,
    .tx_burst = pcapio_tx_burst,
    .tx_free = pcapio_tx_free,
    .fd = pcapio_fd,
    .close = pcapio_close,
};
