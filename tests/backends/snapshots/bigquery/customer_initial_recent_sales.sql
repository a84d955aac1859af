WITH `t1` AS (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`status`,
    `t0`.`channel`,
    `t0`.`subtotal`,
    `t0`.`discount`,
    `t0`.`shipping_fee`,
    `t0`.`points_used`,
    `t0`.`total`,
    `t0`.`points_earned`,
    `t0`.`coupon_code`,
    `t0`.`subscription_id`,
    `t0`.`payment_method`,
    `t0`.`shipping_prefecture`,
    `t0`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t0`
  WHERE
    `t0`.`status` = 'completed'
    AND `t0`.`customer_id` IS NOT NULL
    AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
)
SELECT
  `t7`.`customer_id`,
  `t7`.`first_order`,
  `t7`.`orders`,
  `t7`.`revenue`,
  `t7`.`initial_orders`,
  `t7`.`initial_revenue`,
  `t7`.`recent_orders`,
  `t7`.`recent_revenue`,
  CASE
    WHEN `t7`.`recent_revenue` > `t7`.`initial_revenue`
    THEN 'up'
    WHEN `t7`.`recent_revenue` < `t7`.`initial_revenue`
    THEN 'down'
    ELSE 'flat'
  END AS `trend`
FROM (
  SELECT
    `t6`.`customer_id`,
    `t6`.`first_order`,
    COUNT(`t6`.`order_id`) AS `orders`,
    SUM(`t6`.`total`) AS `revenue`,
    SUM(IF(DATE_DIFF(`t6`.`order_date`, `t6`.`first_order`, DAY) < 90, 1, 0)) AS `initial_orders`,
    SUM(IF(DATE_DIFF(`t6`.`order_date`, `t6`.`first_order`, DAY) < 90, `t6`.`total`, 0)) AS `initial_revenue`,
    SUM(IF(DATE_DIFF(DATE(2026, 10, 31), `t6`.`order_date`, DAY) < 90, 1, 0)) AS `recent_orders`,
    SUM(IF(DATE_DIFF(DATE(2026, 10, 31), `t6`.`order_date`, DAY) < 90, `t6`.`total`, 0)) AS `recent_revenue`
  FROM (
    SELECT
      `t3`.`order_id`,
      `t3`.`customer_id`,
      `t3`.`ordered_at`,
      `t3`.`status`,
      `t3`.`channel`,
      `t3`.`subtotal`,
      `t3`.`discount`,
      `t3`.`shipping_fee`,
      `t3`.`points_used`,
      `t3`.`total`,
      `t3`.`points_earned`,
      `t3`.`coupon_code`,
      `t3`.`subscription_id`,
      `t3`.`payment_method`,
      `t3`.`shipping_prefecture`,
      `t3`.`is_gift`,
      `t3`.`order_date`,
      `t5`.`first_order`
    FROM `t1` AS `t3`
    INNER JOIN (
      SELECT
        `t2`.`customer_id`,
        MIN(`t2`.`order_date`) AS `first_order`
      FROM `t1` AS `t2`
      GROUP BY
        1
    ) AS `t5`
      ON `t3`.`customer_id` = `t5`.`customer_id`
  ) AS `t6`
  GROUP BY
    1,
    2
) AS `t7`
ORDER BY
  `t7`.`customer_id` ASC NULLS LAST
